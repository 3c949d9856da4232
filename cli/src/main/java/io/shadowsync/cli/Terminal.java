package io.shadowsync.cli;

import java.io.Console;
import java.lang.reflect.Method;

/** Whether the process talks to a person at a terminal (progress bar) or to a pipe/file (log lines). */
final class Terminal {
    private Terminal() {}

    static boolean isInteractive() {
        if (System.getenv("CI") != null) return false;
        Console c = System.console();
        if (c == null) return false;
        try {
            // JDK 22+: System.console() exists even when redirected; isTerminal() tells the truth
            Method m = Console.class.getMethod("isTerminal");
            return (Boolean) m.invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: console() is non-null only on a terminal
        }
    }
}
