package io.shadowsync.cli;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command line of {@code shadowsync ARGS} in a JVM of its own: this JVM's java, the given JVM options, this JVM's
 * class path, {@link Main}, the arguments. {@code launch --local} starts its processes with it (passing on this JVM's
 * own options), and so do the tests that start JVMs.
 */
final class ChildJvm {
    /** JVM flags of this process that must not be copied to the children (a debugger port, a recording file). */
    private static final List<String> NOT_INHERITED = List.of("-agentlib:", "-agentpath:", "-javaagent:", "-XX:StartFlightRecording",
            "-Xrunjdwp", "-XX:FlightRecorderOptions");

    /** Environment variables with extra JVM flags for {@code launch --local}'s trainer and parameter-server processes. */
    static final String TRAINER_OPTIONS = "SHADOWSYNC_TRAINER_JAVA_OPTS", PS_OPTIONS = "SHADOWSYNC_PS_JAVA_OPTS";

    private ChildJvm() {}

    /**
     * The JVM flags that the environment variable {@code name} holds, split at white space (none when it is unset or
     * blank): they follow the inherited options, so a flag given here wins over the launcher's own.
     */
    static List<String> roleOptions(String name, Map<String, String> env) {
        String v = env.get(name);
        List<String> out = new ArrayList<>();
        if (v == null) return out;
        for (String a : v.trim().split("\\s+")) if (!a.isEmpty()) out.add(a);
        return out;
    }

    /** The command line: a mutable list, callers may add arguments. */
    static List<String> command(List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** System properties a child takes from this JVM even when they were set at run time, not on its command line. */
    private static final List<String> PASSED_ON = List.of("shadowsync.blas");

    /**
     * This JVM's own options (heap, modules, system properties), less those a child must not share; plus the
     * {@link #PASSED_ON} properties this JVM holds that its command line did not give (the BLAS backend: a job whose
     * processes should train bit for bit alike must compute alike, see docs/multi-process.md).
     */
    static List<String> inheritedOptions() {
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            boolean skip = false;
            for (String p : NOT_INHERITED) skip |= a.startsWith(p);
            if (!skip) out.add(a);
        }
        for (String name : PASSED_ON) {
            String v = System.getProperty(name);
            if (v != null && out.stream().noneMatch(a -> a.startsWith("-D" + name + "="))) out.add("-D" + name + "=" + v);
        }
        return out;
    }
}
