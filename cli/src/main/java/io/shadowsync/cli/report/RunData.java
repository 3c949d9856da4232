package io.shadowsync.cli.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One run as {@code report} reads it: the records of its metrics log (docs/metrics.md) by kind, its JSON summary
 * and its label. A run is a {@code --run-dir} directory ({@code metrics.jsonl}, {@code summary.json}, {@code job.yaml};
 * or the per-trainer files {@code metrics.trainer-R.jsonl} of a multi-process job) or one metrics file.
 *
 * <p>What is refused, with one sentence ({@link IllegalArgumentException}): a path that does not exist, a directory
 * without a metrics file, a line other than the last that is not JSON. What is read with a warning: a last line cut
 * off (a run still writing, or stopped mid-line), records of a kind this version does not know, a run without a
 * summary (unfinished, or failed), an empty metrics file.
 */
public record RunData(Path path, String label, Map<String, Object> summary, List<Map<String, Object>> train,
                      List<Map<String, Object>> eval, List<Map<String, Object>> membership) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The record kinds this version reads; others are skipped with a warning. */
    static final List<String> KINDS = List.of("train", "eval", "membership");
    private static final com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>> RECORD = new com.fasterxml.jackson.core.type.TypeReference<>() {};

    /** Reads the run at path; warnings (one sentence each, naming the file) go to warn. */
    public static RunData read(Path path, Consumer<String> warn) {
        if (!Files.exists(path)) throw new IllegalArgumentException(path + ": no such run directory or metrics file");
        List<Path> files = new ArrayList<>();
        Path dir;
        if (Files.isDirectory(path)) {
            dir = path;
            Path main = path.resolve("metrics.jsonl");
            if (Files.isRegularFile(main)) {
                files.add(main);
            } else {
                try (Stream<Path> s = Files.list(path)) {
                    s.filter(p -> p.getFileName().toString().matches("metrics\\.trainer-\\d+\\.jsonl")).sorted().forEach(files::add);
                } catch (IOException e) {
                    throw new IllegalArgumentException(path + ": cannot list the directory: " + e.getMessage(), e);
                }
            }
            if (files.isEmpty()) {
                throw new IllegalArgumentException(path + " is not a run directory: it has no metrics.jsonl (train --run-dir DIR writes one)");
            }
        } else {
            dir = null;
            files.add(path);
        }
        List<Map<String, Object>> train = new ArrayList<>(), eval = new ArrayList<>(), membership = new ArrayList<>();
        for (Path f : files) readRecords(f, train, eval, membership, warn);
        // one time order over the files of several trainers (stable: the order of one file is kept)
        train.sort((a, b) -> Long.compare(number(a, "time", 0), number(b, "time", 0)));
        eval.sort((a, b) -> Long.compare(number(a, "time", 0), number(b, "time", 0)));
        Map<String, Object> summary = dir == null ? Map.of() : readSummary(dir, warn);
        String algorithm = summary.get("algorithm") instanceof String s ? s : dir == null ? null : jobSetting(dir, "sync");
        Object trainers = summary.containsKey("trainers") ? summary.get("trainers") : dir == null ? null : jobSetting(dir, "trainers");
        RunData run = new RunData(path, "", summary, List.copyOf(train), List.copyOf(eval), List.copyOf(membership));
        return run.withLabel(algorithm == null ? run.name() : algorithm + (trainers == null ? "" : " ×" + trainers));
    }

    /** The same run under another label (two runs of one algorithm are told apart by their directories). */
    RunData withLabel(String newLabel) {
        return new RunData(path, newLabel, summary, train, eval, membership);
    }

    /** The directory's (or file's) own name. */
    String name() {
        Path p = path.toAbsolutePath().normalize().getFileName();
        return p == null ? path.toString() : p.toString();
    }

    private static void readRecords(Path file, List<Map<String, Object>> train, List<Map<String, Object>> eval,
                                    List<Map<String, Object>> membership, Consumer<String> warn) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the metrics file: " + e.getMessage(), e);
        }
        if (text.isBlank()) {
            warn.accept(file + " is empty: the run wrote no records (yet)");
            return;
        }
        String[] lines = text.split("\n", -1);
        int last = lines.length - 1; // the part after the last newline: "" when the file ends in one
        while (last >= 0 && lines[last].isBlank()) last--;
        Map<String, Integer> unknown = new TreeMap<>();
        for (int i = 0; i <= last; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            Map<String, Object> r;
            try {
                r = JSON.readValue(line, RECORD);
            } catch (JsonProcessingException e) {
                if (i == last) {
                    warn.accept(file + ": the last line (" + (i + 1) + ") is cut off, ignored (a run still writing, or stopped mid-line)");
                    continue;
                }
                throw new IllegalArgumentException(file + " line " + (i + 1) + " is not a JSON record, so this is not a metrics log (docs/metrics.md)");
            }
            String type = r.get("type") instanceof String s ? s : "(none)";
            switch (type) {
                case "train" -> train.add(r);
                case "eval" -> eval.add(r);
                case "membership" -> membership.add(r);
                default -> unknown.merge(type, 1, Integer::sum);
            }
        }
        for (Map.Entry<String, Integer> e : unknown.entrySet()) {
            warn.accept(file + ": " + e.getValue() + " record(s) of unknown kind '" + e.getKey() + "' skipped (known: " + String.join(", ", KINDS) + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readSummary(Path dir, Consumer<String> warn) {
        Path f = dir.resolve("summary.json");
        if (!Files.isRegularFile(f)) {
            warn.accept(dir + " has no summary.json (the run did not finish?): its column of the table is empty");
            return Map.of();
        }
        try {
            String text = Files.readString(f, StandardCharsets.UTF_8).strip();
            Object v = JSON.readValue(text.isEmpty() ? "null" : text, Object.class);
            if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
            warn.accept(f + " is not a JSON object: ignored");
        } catch (IOException e) {
            warn.accept(f + " is not valid JSON: ignored");
        }
        return Map.of();
    }

    /** A top-level setting of the run's job.yaml ({@code key: value} lines), or null. */
    private static String jobSetting(Path dir, String key) {
        Path f = dir.resolve("job.yaml");
        if (!Files.isRegularFile(f)) return null;
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.startsWith(key + ":")) {
                    String v = line.substring(key.length() + 1).strip();
                    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) v = v.substring(1, v.length() - 1);
                    return v.isEmpty() ? null : v;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // the label falls back on the directory's name
        }
        return null;
    }

    static long number(Map<String, Object> r, String key, long otherwise) {
        return r.get(key) instanceof Number n ? n.longValue() : otherwise;
    }

    /** A field as a finite double, or NaN when absent, null or not a number. */
    static double value(Map<String, Object> r, String key) {
        return r.get(key) instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : Double.NaN;
    }
}
