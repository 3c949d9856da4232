package io.shadowsync.cli.chaos;

import io.shadowsync.ckpt.CheckpointDir;
import io.shadowsync.ckpt.Manifest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a checkpoint directory holds, checked against what {@link CheckpointDir} promises, at any moment a writer may
 * have been killed:
 * <ul>
 * <li>every entry is a {@code ckpt-<seq>} directory;</li>
 * <li>every checkpoint with a {@code MANIFEST} verifies ({@link CheckpointDir#verify}: sizes, CRC32C, parsed state) and
 *     holds nothing but its manifest and the files it lists;</li>
 * <li>one without (a write or a delete cut short) holds only state files and the manifest's temporary file;</li>
 * <li>{@code keep} complete checkpoints at most (one more just after a kill: the write had ended, the prune not);</li>
 * <li>once a run has ended normally after writing a checkpoint, no incomplete one older than the {@code keep}-th newest
 *     complete one (the prune's rule).</li>
 * </ul>
 *
 * @param complete   sequence numbers of the checkpoints with a manifest (all verified), ascending
 * @param incomplete sequence numbers of those without, ascending
 * @param problems   every broken promise, one sentence each; empty when the directory is as it should be
 */
record CheckpointAudit(List<Long> complete, List<Long> incomplete, List<String> problems) {
    private static final Pattern CKPT = Pattern.compile("ckpt-(\\d{1,18})");
    private static final Pattern STATE_FILE = Pattern.compile("trainer-\\d+\\.bin|emb-shard-\\d+\\.bin|dense-server\\.bin|MANIFEST\\.tmp-\\d+-\\d+");

    /** The newest complete checkpoint's sequence number, or 0. */
    long newestComplete() {
        return complete.isEmpty() ? 0 : complete.get(complete.size() - 1);
    }

    /** Incomplete checkpoints newer than every complete one: a write was under way when the writer died. */
    List<Long> beingWritten() {
        List<Long> out = new ArrayList<>();
        for (long s : incomplete) if (s > newestComplete()) out.add(s);
        return out;
    }

    /**
     * @param afterCleanEnd true when the last run ended normally having written at least one checkpoint (the prune ran
     *                      after every kill), false just after a kill
     */
    static CheckpointAudit of(Path dir, int keep, boolean afterCleanEnd) throws IOException {
        TreeMap<Long, Path> complete = new TreeMap<>(), incomplete = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(dir)) return new CheckpointAudit(List.of(), List.of(), List.of());
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (p.getFileName().toString().equals(CheckpointDir.LOCK_NAME)) continue; // the job's lock, not a checkpoint
                var m = CKPT.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p)) {
                    problems.add("stray entry " + p.getFileName() + " in the checkpoint directory");
                    continue;
                }
                long seq = Long.parseLong(m.group(1));
                if (Files.exists(p.resolve(Manifest.NAME))) complete.put(seq, p);
                else incomplete.put(seq, p);
            }
        }
        for (Path ck : complete.values()) {
            try {
                CheckpointDir.Loaded l = CheckpointDir.verify(ck);
                Set<String> listed = new HashSet<>();
                listed.add(Manifest.NAME);
                for (Manifest.Entry e : l.manifest().files()) listed.add(e.name());
                for (String n : names(ck)) if (!listed.contains(n)) problems.add(ck.getFileName() + " holds " + n + ", which its manifest does not list");
            } catch (IOException | RuntimeException e) {
                problems.add("CORRUPT: " + ck.getFileName() + " has a manifest but does not verify: " + e.getMessage());
            }
        }
        for (Path ck : incomplete.values()) {
            for (String n : names(ck)) if (!STATE_FILE.matcher(n).matches()) problems.add("incomplete " + ck.getFileName() + " holds " + n);
        }
        int allowed = afterCleanEnd ? keep : keep + 1;
        if (complete.size() > allowed) problems.add(complete.size() + " complete checkpoints " + complete.keySet() + ", --keep " + keep);
        if (afterCleanEnd && complete.size() >= keep) {
            long oldestKept = new ArrayList<>(complete.descendingKeySet()).get(keep - 1);
            for (long s : incomplete.keySet()) {
                if (s < oldestKept) problems.add("incomplete ckpt-" + s + " outlived the prune (older than the kept ckpt-" + oldestKept + ")");
            }
        }
        return new CheckpointAudit(List.copyOf(complete.keySet()), List.copyOf(incomplete.keySet()), problems);
    }

    private static List<String> names(Path d) throws IOException {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) out.add(p.getFileName().toString());
        }
        return out;
    }
}
