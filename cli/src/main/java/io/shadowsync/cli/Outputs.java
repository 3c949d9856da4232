package io.shadowsync.cli;

import io.shadowsync.ckpt.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The files a command reads and writes, checked before any work: every output can be written (not a directory, not a
 * link that leads nowhere, its directory there or creatable and writable), no output is an input, and no two outputs
 * are the same file. Paths are compared as real paths (symbolic links followed, {@code ./a} and {@code a} alike) and by
 * file identity (hard links). Special files ({@code /dev/null}, FIFOs) are written in place, and {@code -} or
 * {@code /dev/stdout} (and {@code /dev/stderr}) through the process's own streams; these may be named more than once.
 *
 * <pre>
 *   new Outputs().input("--train", train).output("--save", save).output("--summary-json", summary).check();
 * </pre>
 */
final class Outputs {
    /** {@code -}: standard output, for the commands that take it. */
    static final String STDOUT = "-";

    private final Map<String, Path> inputs = new LinkedHashMap<>();
    private final Map<String, Path> outputs = new LinkedHashMap<>();

    /** A file the command reads (null: not given). */
    Outputs input(String flag, Path p) {
        if (p != null) inputs.put(flag, p);
        return this;
    }

    /** A file the command writes (null: not given). */
    Outputs output(String flag, Path p) {
        if (p != null) outputs.put(flag, p);
        return this;
    }

    /**
     * Whether p is this process's standard output: {@code -}, {@code /dev/stdout}, {@code /dev/fd/1} or
     * {@code /proc/self/fd/1}. Those are written through the stream stdout already is, not opened again: a second
     * opening of a redirected stdout would start at offset 0 and collide with the process's own output.
     */
    static boolean isStdout(Path p) {
        return p != null && (p.toString().equals(STDOUT) || STDOUT_ALIASES.contains(p.toAbsolutePath().normalize().toString()));
    }

    /** Whether p is this process's standard error ({@code /dev/stderr}, {@code /dev/fd/2}, {@code /proc/self/fd/2}). */
    static boolean isStderr(Path p) {
        return p != null && STDERR_ALIASES.contains(p.toAbsolutePath().normalize().toString());
    }

    private static final java.util.Set<String> STDOUT_ALIASES = java.util.Set.of("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1");
    private static final java.util.Set<String> STDERR_ALIASES = java.util.Set.of("/dev/stderr", "/dev/fd/2", "/proc/self/fd/2");

    /** Refuses, with a sentence naming the flags and the path, an output that cannot be written or would overwrite an input. */
    void check() {
        List<Map.Entry<String, Path>> files = new ArrayList<>();
        for (Map.Entry<String, Path> o : outputs.entrySet()) {
            if (isStdout(o.getValue()) || isStderr(o.getValue())) continue;
            AtomicFiles.Destination d = writable(o.getKey(), o.getValue());
            if (!d.special()) files.add(Map.entry(o.getKey(), o.getValue()));
        }
        for (Map.Entry<String, Path> o : files) {
            for (Map.Entry<String, Path> i : inputs.entrySet()) {
                if (sameFile(o.getValue(), i.getValue())) {
                    throw new UsageException(o.getKey() + " " + o.getValue() + " is the same file as " + i.getKey() + " " + i.getValue()
                            + ": writing it would destroy the input; give another path");
                }
            }
        }
        for (int a = 0; a < files.size(); a++) {
            for (int b = a + 1; b < files.size(); b++) {
                if (sameFile(files.get(a).getValue(), files.get(b).getValue())) {
                    throw new UsageException(files.get(a).getKey() + " and " + files.get(b).getKey() + " name the same file ("
                            + files.get(a).getValue() + "): one would overwrite the other; give two paths");
                }
            }
        }
    }

    /** Where p is written; refuses a directory, a dangling link, a missing or unwritable directory. */
    private static AtomicFiles.Destination writable(String flag, Path p) {
        AtomicFiles.Destination d;
        try {
            d = AtomicFiles.destination(p);
        } catch (FileSystemException e) {
            throw new UsageException(flag + " " + p + " " + e.getReason());
        } catch (IOException e) {
            throw new UsageException(flag + " " + p + ": " + Main.describe(e));
        }
        if (d.special()) {
            if (!Files.isWritable(p)) throw new UsageException(flag + " " + p + ": permission denied");
            return d;
        }
        Path dir = d.file().toAbsolutePath().getParent();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) throw new UsageException(flag + " " + p + ": no directory to write it in");
        if (!Files.isDirectory(existing)) {
            throw new UsageException(flag + " " + p + ": " + existing + " is not a directory");
        }
        if (!Files.isWritable(existing)) {
            throw new UsageException(flag + " " + p + ": cannot write in " + existing + " (permission denied)");
        }
        if (Files.exists(d.file()) && !Files.isWritable(d.file()) && !Files.isWritable(existing)) {
            throw new UsageException(flag + " " + p + ": permission denied");
        }
        return d;
    }

    /** Whether a and b are one file: the same real path, or (both existing) the same file key. */
    static boolean sameFile(Path a, Path b) {
        if (isStdout(a) || isStdout(b) || isStderr(a) || isStderr(b)) return false;
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException e) {
            // fall back to the paths
        }
        return Objects.equals(real(a), real(b));
    }

    /** p with symbolic links resolved as far as the file system has them: the real parent plus the name. */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException missing) {
            Path parent = abs.getParent();
            if (parent == null) return abs;
            return real(parent).resolve(abs.getFileName());
        }
    }
}
