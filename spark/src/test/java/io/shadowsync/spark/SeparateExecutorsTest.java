package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.SyntheticCtr;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fit whose trainers run in executor JVMs of their own: Spark's local-cluster mode, started from Maven's jars alone.
 * Spark's launcher looks for a Spark distribution's jars directory unless SPARK_TESTING is set, and needs the Scala
 * version from SPARK_SCALA_VERSION; with spark.testing (and spark.test.home, which its Worker asserts) the executors
 * get the driver's class path. Those switch Spark
 * into its testing mode, so the fit runs in a child JVM ({@link ClusterMain}), not in the shared test session.
 */
@EnabledIfSystemProperty(named = "shadowsync.spark.cluster", matches = "true",
        disabledReason = "a master, two workers and two executor JVMs take 30 s to minutes on a 2-core machine: beyond the spark "
                + "module's share of CI; run with -Dshadowsync.spark.cluster=true")
class SeparateExecutorsTest {
    /** How long the child may take: starting two executor JVMs on a loaded 2-core machine took two minutes. */
    private static final long LIMIT_S = Long.getLong("shadowsync.spark.cluster.timeout", 540);

    @Test
    void trainersInSeparateExecutorJvmsTrainEveryRow(@TempDir Path tmp) throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(8_000, 2_000, 11, 1_000)).generate(tmp);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(System.getProperty("shadowsync.test.jvm.flags", "").split(" ")));
        cmd.removeIf(String::isEmpty);
        cmd.addAll(List.of("-Xmx1g", "-Dspark.testing=true", "-Dspark.test.home=" + tmp, "-cp", System.getProperty("java.class.path"), ClusterMain.class.getName(), tmp.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("SPARK_TESTING", "1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_HOME", tmp.toString());
        pb.redirectOutput(tmp.resolve("child.log").toFile());
        Process p = pb.start();
        boolean ended = p.waitFor(LIMIT_S, TimeUnit.SECONDS);
        if (!ended) p.destroyForcibly().waitFor();
        String log = java.nio.file.Files.readString(tmp.resolve("child.log"), StandardCharsets.UTF_8);
        assertTrue(ended, "the local-cluster fit ended within " + LIMIT_S + " s; its log:\n" + tail(log));
        assertEquals(0, p.exitValue(), tail(log));
        Matcher m = Pattern.compile("examples=(\\d+) logloss=([0-9.]+) executors=(\\d+) rows=(\\d+)").matcher(log);
        assertTrue(m.find(), tail(log));
        assertEquals(2, Integer.parseInt(m.group(3)), "two executor JVMs");
        assertEquals(Long.parseLong(m.group(4)), Long.parseLong(m.group(1)), "every row trained once");
        assertTrue(Double.parseDouble(m.group(2)) < 0.69, "learned something: " + m.group(2));
    }

    private static String tail(String log) {
        return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
    }
}
