package io.shadowsync.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.shadowsync.tune.SearchSpace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code tune --space SPACE.yaml}: a YAML mapping whose keys are long flag names of {@code train} without the dashes,
 * each mapped to a list of values ({@code batch: [32, 64, 128]}, {@code hidden: [[128], [256, 128]]}) or to a range
 * {@code {min: 0.001, max: 0.5, log: true}} (numeric flags only; whole numbers for integer flags). Anything else — a key
 * that is not a train flag, one that names data or outputs every trial shares, a value that the flag would not take,
 * min above max, a log range from zero or below — is refused with the file and the key.
 */
final class SpaceFile {
    /** Train flags every trial shares: the data (loaded once), its reading, outputs and checkpoints. */
    static final Set<String> SHARED = Set.of("train", "eval", "train-labels", "eval-labels", "format", "label-col", "classes", "zero-based",
            "idx-mean", "idx-std", "skip-bad-lines", "in-memory", "stream", "cache-fraction", "input-splits", "no-input-splits", "save",
            "summary-json", "metrics", "run-dir", "eval-every", "log-every", "no-progress", "verbose", "checkpoint-dir", "checkpoint-every-sec",
            "checkpoint-every-examples", "keep", "resume", "checkpoint-max-failures", "emulate-slow-trainer");

    private SpaceFile() {}

    static SearchSpace read(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper(YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()).readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new UsageException("--space " + file + ": no such file");
        } catch (JacksonException e) {
            String where = e.getLocation() != null ? ":" + e.getLocation().getLineNr() : "";
            throw new UsageException("--space " + file + where + ": not valid YAML (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new UsageException("--space " + file + ": a search space is a mapping of train flags to lists of values or "
                    + "{min, max, log} ranges, e.g. 'lr: {min: 0.001, max: 0.5, log: true}'");
        }
        CommandLine.Model.CommandSpec train = new CommandLine(new TrainCommand()).getCommandSpec();
        SearchSpace.Builder b = SearchSpace.builder();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            String where = "--space " + file + ": '" + key + "'";
            OptionSpec opt = train.findOption("--" + key);
            if (opt == null || opt.usageHelp() || opt.versionHelp() || !opt.longestName().equals("--" + key)) {
                throw new UsageException(where + " is not a train flag (the keys are train's long flags without '--', e.g. lr, batch, hidden)");
            }
            if (SHARED.contains(key)) {
                throw new UsageException(where + " cannot be searched: every trial shares the data, how it is read, the outputs and checkpoints");
            }
            JsonNode v = e.getValue();
            try {
                if (v.isArray()) {
                    List<Object> values = new ArrayList<>();
                    for (JsonNode x : v) values.add(value(where, x));
                    b.choice(key, values);
                    for (Object x : values) convertOnTrial(where, key, TuneCommand.text(x));
                } else if (v.isObject()) {
                    range(b, where, key, v, opt);
                } else {
                    throw new UsageException(where + " must be a list of values or a range {min, max, log}, not '" + v.asText() + "'");
                }
            } catch (IllegalArgumentException ex) {
                throw new UsageException("--space " + file + ": " + ex.getMessage());
            }
        }
        return b.build();
    }

    /** A list element: a number, text, boolean, or a list of those (a flag that takes a list, such as hidden). */
    private static Object value(String where, JsonNode x) {
        if (x.isArray()) {
            if (x.isEmpty()) throw new UsageException(where + " has an empty list among its values");
            List<Object> list = new ArrayList<>();
            for (JsonNode y : x) {
                if (!y.isValueNode() || y.isNull()) throw new UsageException(where + ": a value in a list of values must be plain");
                list.add(value(where, y));
            }
            return list;
        }
        if (x.isNull() || x.isObject()) throw new UsageException(where + " has an empty or nested value in its list");
        if (x.isIntegralNumber()) return x.longValue();
        if (x.isNumber()) return x.doubleValue();
        if (x.isBoolean()) return x.booleanValue();
        return x.asText();
    }

    private static void range(SearchSpace.Builder b, String where, String key, JsonNode v, OptionSpec opt) {
        for (Map.Entry<String, JsonNode> f : v.properties()) {
            if (!Set.of("min", "max", "log").contains(f.getKey())) {
                throw new UsageException(where + ": a range has min, max and log, not '" + f.getKey() + "'");
            }
        }
        JsonNode min = v.get("min"), max = v.get("max"), log = v.get("log");
        if (min == null || max == null || !min.isNumber() || !max.isNumber()) throw new UsageException(where + ": a range needs numbers min and max");
        if (log != null && !log.isBoolean()) throw new UsageException(where + ": a range's log is true or false, not '" + log.asText() + "'");
        Class<?> type = opt.type();
        boolean integer = type == int.class || type == Integer.class || type == long.class || type == Long.class;
        boolean real = type == double.class || type == Double.class || type == float.class || type == Float.class;
        if (!integer && !real) throw new UsageException(where + " does not take a number: give it a list of values, not a range");
        b.range(key, min.doubleValue(), max.doubleValue(), log != null && log.booleanValue(), integer);
    }

    /** Has picocli convert a value as the flag would take it, so that a bad value is refused before any trial runs. */
    private static void convertOnTrial(String where, String key, String text) {
        CommandLine trial = new CommandLine(new TrainCommand());
        trial.setDefaultValueProvider(a -> a instanceof OptionSpec o && o.longestName().equals("--" + key) ? text : null);
        try {
            trial.parseArgs();
        } catch (CommandLine.ParameterException e) {
            String why = e.getCause() instanceof CommandLine.TypeConversionException t ? t.getMessage() : e.getMessage();
            throw new UsageException(where + ": the value '" + text + "' does not fit the flag: " + why);
        }
    }
}
