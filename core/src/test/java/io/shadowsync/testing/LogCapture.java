package io.shadowsync.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What the library logs under one logger name while a test runs: the library logs through {@link System.Logger},
 * which the JDK hands to java.util.logging, so a handler on the JUL logger of that name (or of a package above it)
 * sees every record. Opens the logger to every level for its lifetime and restores it on {@link #close()}.
 * <pre>
 *   try (LogCapture logs = LogCapture.of("io.shadowsync.ckpt")) {
 *       ...
 *       assertEquals(List.of("skipping checkpoint ..."), logs.messages(Level.WARNING));
 *   }
 * </pre>
 */
public final class LogCapture extends Handler implements AutoCloseable {
    /** Held: JUL keeps loggers weakly, and a collected one would forget this handler. */
    private final Logger logger;
    private final Level before;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    private LogCapture(Logger logger) {
        this.logger = logger;
        this.before = logger.getLevel();
        setLevel(Level.ALL);
        logger.setLevel(Level.ALL);
        logger.addHandler(this);
    }

    /** Captures the records of logger {@code name} and the loggers below it (e.g. a package name). */
    public static LogCapture of(String name) {
        return new LogCapture(Logger.getLogger(name));
    }

    @Override
    public void publish(LogRecord r) {
        records.add(r);
    }

    /** Every record so far, in the order logged. */
    public List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** The messages of the records logged at exactly {@code level} (System.Logger's WARNING is JUL's WARNING, ERROR is SEVERE, DEBUG is FINE). */
    public List<String> messages(Level level) {
        List<String> out = new ArrayList<>();
        for (LogRecord r : records) if (r.getLevel().equals(level)) out.add(r.getMessage());
        return out;
    }

    /** Every message so far, at any level. */
    public List<String> messages() {
        List<String> out = new ArrayList<>();
        for (LogRecord r : records) out.add(r.getMessage());
        return out;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(before);
    }
}
