package io.shadowsync.api;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a saved model came to be, as stored in its model file: the shadowsync version that trained it, when, the
 * synchronization algorithm and the job's size, the training data and its {@linkplain
 * io.shadowsync.data.DataSource#fingerprint() fingerprint}, the job's settings and its metrics.
 *
 * <p>On disk it is the model file's string map ({@link #toMap}, {@link #fromMap}): {@code shadowsync_version},
 * {@code created}, {@code train_data}, {@code train_data_fingerprint}, {@code algorithm} (as "sync s-ma, 4 trainer(s)
 * x 2 Hogwild worker(s)"), {@code setting.KEY} per setting, {@code metric.KEY} per metric, and every other entry
 * (the command line, a job file, the JSON summary) as it is. Files written before this record existed read back
 * with the entries they have: unknown trainers and workers are 0, missing strings null, no settings or metrics.
 *
 * @param version         the shadowsync version that trained the model, or null when unknown
 * @param created         when the model was saved, or null when unknown
 * @param algorithm       the synchronization algorithm ("s-ma", "none", ...), or null when unknown
 * @param trainers        trainers of the job (0: unknown)
 * @param workers         Hogwild workers per trainer (0: unknown)
 * @param trainData       the training data ({@link io.shadowsync.data.DataSource#describe()}), or null
 * @param dataFingerprint the training data's fingerprint, or null
 * @param settings        the job's settings (model shape, optimizer, batch, seed, ...), in order
 * @param metrics         training and evaluation metrics ("train_loss", "eval.auc", ...), in order
 * @param other           every other entry of the file, in order
 */
public record Provenance(String version, Instant created, String algorithm, int trainers, int workers, String trainData,
                         String dataFingerprint, Map<String, String> settings, Map<String, Double> metrics,
                         Map<String, String> other) {
    static final String VERSION = "shadowsync_version", CREATED = "created", ALGORITHM = "algorithm", TRAIN_DATA = "train_data",
            FINGERPRINT = "train_data_fingerprint", SETTING = "setting.", METRIC = "metric.";
    private static final Pattern ALGORITHM_LINE = Pattern.compile("sync (\\S+), (\\d{1,9}) trainer\\(s\\) x (\\d{1,9}) Hogwild worker\\(s\\)");

    public Provenance {
        if (trainers < 0 || workers < 0) throw new IllegalArgumentException("trainers and workers are counts (0: unknown), got " + trainers + " and " + workers);
        settings = frozen(settings);
        metrics = frozen(metrics);
        other = frozen(other);
    }

    /** No provenance: a model built in memory and never trained by a job. */
    public static Provenance none() {
        return new Provenance(null, null, null, 0, 0, null, null, Map.of(), Map.of(), Map.of());
    }

    /** The version of the shadowsync-core jar this runs from ("0.1.0-dev" from classes). */
    public static String currentVersion() {
        String v = Provenance.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }

    /** This provenance with other entries added (replacing those of the same key). */
    public Provenance withOther(Map<String, String> more) {
        Map<String, String> o = new LinkedHashMap<>(other);
        o.putAll(more);
        return new Provenance(version, created, algorithm, trainers, workers, trainData, dataFingerprint, settings, metrics, o);
    }

    /**
     * The numbers of a job's JSON summary as metrics: nested maps as "eval.auc", non-finite values, lists and strings
     * left out, and the job's size ("trainers", "workers"), which the provenance holds on its own.
     */
    public static Map<String, Double> metricsOf(Map<String, ?> summary) {
        Map<String, Double> into = new LinkedHashMap<>();
        flatten("", summary, into);
        return into;
    }

    private static void flatten(String prefix, Map<String, ?> m, Map<String, Double> into) {
        for (Map.Entry<String, ?> e : m.entrySet()) {
            if (e.getValue() instanceof Number n && !e.getKey().equals("trainers") && !e.getKey().equals("workers")) {
                double v = n.doubleValue();
                if (Double.isFinite(v)) into.put(prefix + e.getKey(), v);
            } else if (e.getValue() instanceof Map<?, ?> inner) {
                @SuppressWarnings("unchecked")
                Map<String, ?> sub = (Map<String, ?>) inner;
                flatten(prefix + e.getKey() + ".", sub, into);
            }
        }
    }

    /** The model file's form. */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        if (version != null) m.put(VERSION, version);
        if (created != null) m.put(CREATED, created.toString());
        if (trainData != null) m.put(TRAIN_DATA, trainData);
        if (dataFingerprint != null) m.put(FINGERPRINT, dataFingerprint);
        if (algorithm != null) {
            m.put(ALGORITHM, trainers > 0 && workers > 0 && !algorithm.isEmpty() && algorithm.chars().noneMatch(Character::isWhitespace)
                    ? "sync " + algorithm + ", " + trainers + " trainer(s) x " + workers + " Hogwild worker(s)" : algorithm);
        }
        settings.forEach((k, v) -> m.put(SETTING + k, v));
        metrics.forEach((k, v) -> m.put(METRIC + k, Double.toString(v)));
        other.forEach(m::putIfAbsent);
        return m;
    }

    /** Reads the model file's form back; entries it does not know go to {@link #other}. */
    public static Provenance fromMap(Map<String, String> m) {
        String version = null, trainData = null, fingerprint = null, algorithm = null;
        Instant created = null;
        int trainers = 0, workers = 0;
        Map<String, String> settings = new LinkedHashMap<>(), other = new LinkedHashMap<>();
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : m.entrySet()) {
            String k = e.getKey(), v = e.getValue();
            switch (k) {
                case VERSION -> version = v;
                case TRAIN_DATA -> trainData = v;
                case FINGERPRINT -> fingerprint = v;
                case CREATED -> {
                    try {
                        created = Instant.parse(v);
                    } catch (DateTimeParseException bad) {
                        other.put(k, v);
                    }
                }
                case ALGORITHM -> {
                    Matcher a = ALGORITHM_LINE.matcher(v);
                    if (a.matches()) {
                        algorithm = a.group(1);
                        trainers = Integer.parseInt(a.group(2));
                        workers = Integer.parseInt(a.group(3));
                    } else {
                        algorithm = v;
                    }
                }
                default -> {
                    if (k.startsWith(SETTING) && k.length() > SETTING.length()) {
                        settings.put(k.substring(SETTING.length()), v);
                    } else if (k.startsWith(METRIC) && k.length() > METRIC.length() && number(v) != null) {
                        metrics.put(k.substring(METRIC.length()), number(v));
                    } else {
                        other.put(k, v);
                    }
                }
            }
        }
        return new Provenance(version, created, algorithm, trainers, workers, trainData, fingerprint, settings, metrics, other);
    }

    private static Double number(String s) {
        try {
            return Double.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static <V> Map<String, V> frozen(Map<String, V> m) {
        if (m == null) return Map.of();
        for (Map.Entry<String, V> e : m.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) throw new IllegalArgumentException("provenance entries need a key and a value, got " + e);
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }
}
