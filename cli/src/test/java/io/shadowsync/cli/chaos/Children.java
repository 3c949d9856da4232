package io.shadowsync.cli.chaos;

import io.shadowsync.cli.ChildJvms;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The child JVMs of one test, each running the CLI's main class with the test's class path, its stdout and stderr in
 * files (a pipe nobody reads could fill and stall it). {@link #close()} kills every one still alive and waits for it:
 * use in try-with-resources so that nothing outlives the test, even one that fails.
 */
final class Children implements AutoCloseable {
    private final List<Process> started = new ArrayList<>();

    /** Starts {@code shadowsync args...} in a new JVM; out and err receive its stdout and stderr. */
    Process start(List<String> args, Path out, Path err) throws IOException {
        List<String> cmd = ChildJvms.command(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx512m"), args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** SIGKILL, then waits (deadline 10 s) until the process is gone. */
    static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        if (!p.waitFor(10, TimeUnit.SECONDS)) throw new IllegalStateException("process " + p.pid() + " survived SIGKILL for 10 s");
    }

    /** Waits for p's exit, at most seconds; kills it and fails when it takes longer. */
    static int await(Process p, long seconds) throws InterruptedException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            kill(p);
            throw new IllegalStateException("process " + p.pid() + " did not end within " + seconds + " s");
        }
        return p.exitValue();
    }

    @Override
    public void close() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        boolean interrupted = false;
        for (Process p : started) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // every child was already killed; only the wait for its end is cut short
            }
        }
        started.clear();
        if (interrupted) Thread.currentThread().interrupt();
    }
}
