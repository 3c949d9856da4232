package io.shadowsync.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The one java.util.logging setup of a command. The library ({@code io.shadowsync.*}, which logs through
 * {@link System.Logger}, that is JUL) prints on the command's stderr as the CLI's one-line messages:
 * {@code <prefix>: <message>}, with {@code warning: } before a warning's message. The command sets its prefix once
 * ({@code shadowsync trainer 0}, {@code shadowsync ps}); before it does, the prefix is {@code shadowsync}. INFO and
 * above by default; with {@code --verbose} also the library's DEBUG (JUL FINE) lines and the stack traces of the
 * failures it logs. gRPC, Netty and netlib log through JUL too (a peer's connection reset, "Failed to load
 * implementation" when native BLAS is absent): what matters of those reaches the user as our own messages, so they are
 * quiet unless {@code --verbose}, which shows them on stderr in JUL's own format.
 */
final class CliLogging {
    /** Held: JUL keeps loggers weakly, and a collected one forgets its level and handlers. */
    private static final Logger LIBRARY = Logger.getLogger("io.shadowsync");
    private static final List<Logger> OTHERS = List.of(Logger.getLogger("io.grpc"), Logger.getLogger("io.netty"),
            Logger.getLogger("dev.ludovic.netlib"));
    /** The line prefix of the records of a logger and those below it, where it differs from the process's. */
    private static final Map<String, String> PREFIXES = new ConcurrentHashMap<>();
    private static volatile String prefix = "shadowsync";
    private static Handler handler;

    private CliLogging() {}

    /** Called once per command line (also the inner one of {@code node}): library lines go to err from now on. */
    static synchronized void configure(PrintWriter err, boolean verbose) {
        prefix = "shadowsync";
        PREFIXES.clear();
        if (handler != null) LIBRARY.removeHandler(handler);
        handler = new Lines(err, verbose);
        LIBRARY.addHandler(handler);
        LIBRARY.setUseParentHandlers(false);
        LIBRARY.setLevel(verbose ? Level.FINE : Level.INFO);
        for (Logger l : OTHERS) l.setLevel(verbose ? null : Level.OFF);
    }

    /** The prefix of this process's lines, e.g. {@code shadowsync trainer 0}. */
    static void prefix(String p) {
        prefix = p;
    }

    /** Another prefix for the lines of logger {@code name} and those below it (a coordinator run inside a trainer). */
    static void prefix(String name, String p) {
        PREFIXES.put(name, p);
    }

    private static String prefixOf(String logger) {
        String best = null, p = prefix;
        for (Map.Entry<String, String> e : PREFIXES.entrySet()) {
            String n = e.getKey();
            boolean under = logger != null && (logger.equals(n) || logger.startsWith(n + "."));
            if (under && (best == null || n.length() > best.length())) {
                best = n;
                p = e.getValue();
            }
        }
        return p;
    }

    /** One line per record; the writer is locked per line, as the commands lock it for their own lines. */
    private static final class Lines extends Handler {
        private final PrintWriter err;
        private final boolean verbose;

        Lines(PrintWriter err, boolean verbose) {
            this.err = err;
            this.verbose = verbose;
            setLevel(Level.ALL);
        }

        @Override
        public void publish(LogRecord r) {
            if (!isLoggable(r)) return;
            String line = prefixOf(r.getLoggerName()) + ": " + (r.getLevel() == Level.WARNING ? "warning: " : "") + r.getMessage();
            synchronized (err) {
                err.println(line);
                if (verbose && r.getThrown() != null) r.getThrown().printStackTrace(err);
                err.flush();
            }
        }

        @Override
        public void flush() {
            err.flush();
        }

        @Override
        public void close() {}
    }
}
