package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Role;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code launch --local}'s per-role JVM flags ({@code SHADOWSYNC_TRAINER_JAVA_OPTS}, {@code SHADOWSYNC_PS_JAVA_OPTS}). */
class ChildJvmOptionsTest {
    private static final Map<String, String> ENV = Map.of(ChildJvm.TRAINER_OPTIONS, " -XX:+UseSerialGC  -Xss512k ",
            ChildJvm.PS_OPTIONS, "-XX:CICompilerCount=2");

    @Test
    void eachRoleGetsItsOwnFlagsBeforeTheMainClass() {
        LaunchCommand.LocalJvms jvms = new LaunchCommand.LocalJvms(List.of("job.yaml"), 2, 2, 0, null);
        HostPort coord = HostPort.parse("127.0.0.1:7000");
        List<String> trainer = jvms.command(Role.TRAINER, 1, coord, false, ENV);
        List<String> ps = jvms.command(Role.PS, 0, coord, false, ENV);
        int main = trainer.indexOf(Main.class.getName());
        // JVM flags, not program arguments: before the class path and the main class
        assertTrue(trainer.indexOf("-XX:+UseSerialGC") > 0 && trainer.indexOf("-XX:+UseSerialGC") < main, trainer.toString());
        assertTrue(trainer.indexOf("-Xss512k") > 0 && trainer.indexOf("-Xss512k") < main, trainer.toString());
        assertFalse(trainer.contains("-XX:CICompilerCount=2"), "the servers' flags went to a trainer: " + trainer);
        assertTrue(ps.indexOf("-XX:CICompilerCount=2") > 0 && ps.indexOf("-XX:CICompilerCount=2") < ps.indexOf(Main.class.getName()), ps.toString());
        assertFalse(ps.contains("-XX:+UseSerialGC"), "the trainers' flags went to a server: " + ps);
        assertEquals(List.of("trainer", "--rank", "1", "job.yaml"), trainer.subList(main + 1, main + 5));
    }

    @Test
    void unsetOrBlankAddsNothing() {
        assertEquals(List.of(), ChildJvm.roleOptions(ChildJvm.PS_OPTIONS, Map.of()));
        assertEquals(List.of(), ChildJvm.roleOptions(ChildJvm.PS_OPTIONS, Map.of(ChildJvm.PS_OPTIONS, "   ")));
        assertEquals(List.of("-Xmx1g", "-Xss1m"), ChildJvm.roleOptions(ChildJvm.PS_OPTIONS, Map.of(ChildJvm.PS_OPTIONS, "\t-Xmx1g \n -Xss1m")));
    }
}
