package io.shadowsync.cli;

import picocli.CommandLine.IVersionProvider;

/** Version from the jar manifest, or "dev" when run from classes. */
public final class Version implements IVersionProvider {
    public static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"shadowsync " + get(), "JVM " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
    }
}
