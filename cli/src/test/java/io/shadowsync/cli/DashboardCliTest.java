package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --dashboard's flags: bad ones refused before anything is written, the address printed, the server gone with the job. */
class DashboardCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "5000", "--eval-rows", "500", "--vocab", "500", "--seed", "7");
        assertEquals(0, r.code(), r.err());
    }

    static String train() {
        return dir.resolve("ctr/train.tsv").toString();
    }

    @Test
    void badFlagsAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path m = dir.resolve("refused.jsonl");
        CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", train(), "--metrics", m.toString(), "--dashboard", "--dashboard-host", "0.0.0.0");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--dashboard-host 0.0.0.0 is not a loopback address") && r.err().contains("--token-file"), r.err());
        assertFalse(Files.exists(m), "nothing written");

        r = CliTest.run("train", "--model", "lr", "--train", train(), "--dashboard-keep");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--dashboard-keep is an option of the dashboard"), r.err());

        r = CliTest.run("train", "--model", "lr", "--train", train(), "--dashboard", "70000");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--dashboard PORT must be in 0..65535"), r.err());

        r = CliTest.run("train", "--model", "lr", "--train", train(), "--dashboard", "--token-file", dir.resolve("no-such-token").toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--token-file") && r.err().contains("no such file"), r.err());

        r = CliTest.run("train", "--model", "lr", "--train", train(), "--dashboard", "--log-every", "0.05");
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("--log-every must be at least 0.1 seconds with --metrics, --run-dir or --dashboard"), r.err());

        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            r = CliTest.run("train", "--model", "lr", "--train", train(), "--metrics", m.toString(), "--dashboard", String.valueOf(busy.getLocalPort()));
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
            assertTrue(r.err().contains("cannot listen on 127.0.0.1:" + busy.getLocalPort()), r.err());
            assertFalse(Files.exists(m), "nothing written");
        }
    }

    @Test
    void withATokenAnyAddressAndTheServerEndsWithTheJob() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "abcdefghijklmnopqrstuvwxyz012345\n");
        Path run = dir.resolve("run");
        CliTest.Run r = CliTest.run("train", "--model", "lr", "--train", train(), "--hash-bits", "12", "--run-dir", run.toString(), "--no-progress",
                "--dashboard", "--dashboard-host", "0.0.0.0", "--token-file", token.toString());
        assertEquals(0, r.code(), r.err());
        Matcher at = Pattern.compile("dashboard at http://127\\.0\\.0\\.1:(\\d+)/ \\(open it once as .*\\?token=TOKEN, TOKEN from " + Pattern.quote(token.toString()))
                .matcher(r.err());
        assertTrue(at.find(), r.err());
        assertFalse(r.err().contains("abcdefghijklmnop"), "the token itself is never printed");
        int port = Integer.parseInt(at.group(1));
        assertThrows(java.io.IOException.class, () -> new Socket("127.0.0.1", port).close(), "the dashboard stops with the job");
        String yaml = Files.readString(run.resolve("job.yaml"));
        assertFalse(yaml.contains("dashboard") || yaml.contains("token"), "how a run was watched is not part of its job file: " + yaml);
    }

    @Test
    void aJobFileAfterABareDashboardFlagIsTheJobFile() throws Exception {
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, "model: lr\ntrain: " + train() + "\nhash-bits: 12\nno-progress: true\n");
        CliTest.Run r = CliTest.run("train", "--dashboard", job.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("dashboard at http://127.0.0.1:"), r.err());
    }
}
