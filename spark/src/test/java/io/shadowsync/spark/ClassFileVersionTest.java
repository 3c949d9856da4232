package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every class a Spark task loads from shadowsync — core's, net's and this module's — is compiled for Java 17 (class
 * file version 61 or lower), so that the executors of a Spark 4 cluster on Java 17 load them (docs/spark.md). Fails
 * when one of those modules is compiled for a newer release again (a pom's {@code release} back to 21), whatever a
 * class uses.
 */
class ClassFileVersionTest {
    /** Java 17's class file major version. */
    private static final int JAVA_17 = 61;

    @Test
    void everyClassOfCoreNetAndSparkIsForJava17() throws Exception {
        Class<?>[] modules = {io.shadowsync.ckpt.CheckpointDir.class, io.shadowsync.net.run.TrainerProcess.class, ShadowSyncClassifier.class};
        List<String> newer = new ArrayList<>();
        int classes = 0;
        for (Class<?> c : modules) {
            Path where = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (Stream<Path> walk = Files.walk(where)) {
                    for (Path f : walk.filter(p -> p.toString().endsWith(".class")).toList()) {
                        classes++;
                        try (InputStream in = Files.newInputStream(f)) {
                            int v = major(in);
                            if (v > JAVA_17) newer.add(where.relativize(f) + " (" + v + ")");
                        }
                    }
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    for (JarEntry e : java.util.Collections.list(jar.entries())) {
                        if (!e.getName().endsWith(".class") || e.getName().startsWith("META-INF/")) continue;
                        classes++;
                        try (InputStream in = jar.getInputStream(e)) {
                            int v = major(in);
                            if (v > JAVA_17) newer.add(e.getName() + " (" + v + ")");
                        }
                    }
                }
            }
        }
        assertTrue(classes > 300, "found the classes of core, net and spark: " + classes);
        assertEquals(List.of(), newer, "classes compiled for a Java newer than 17 (class file version > " + JAVA_17 + ")");
    }

    private static int major(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        if (d.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        d.readUnsignedShort(); // minor
        return d.readUnsignedShort();
    }
}
