package io.shadowsync.cli;

import java.util.logging.LogManager;

/**
 * The CLI's java.util.logging manager: as the JDK's, except that it keeps its handlers while the JVM shuts down. The
 * JDK's manager resets itself from a shutdown hook of its own, which removes every handler, so a line the library logs
 * from another shutdown hook (a trainer's final checkpoint on SIGTERM: "wrote checkpoint ...", or why it could not be
 * written) would be lost, depending on which hook runs first. {@link Main#main} installs it before anything touches
 * logging, unless the user names another manager.
 */
public final class CliLogManager extends LogManager {
    public CliLogManager() {}

    @Override
    public void reset() {
        if (!shuttingDown()) super.reset();
    }

    /** Whether the JVM has begun to shut down: it then refuses new shutdown hooks. */
    private static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
