package io.shadowsync.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Reading, checking and generating the job's token file. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TokenFileTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileIsBadInputNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("nope: no such file"), e.getMessage());
        // and the transport says the same (it was an UncheckedIOException, exit 1)
        assertThrows(IllegalArgumentException.class, () -> new Transport(NetConfig.LOOPBACK.withToken(dir.resolve("nope"))));
    }

    /** /dev/zero or a log file given by mistake: refused after a bounded read, not read to the end of memory. */
    @Test
    void aFileLongerThanTheBoundIsRefused() throws IOException {
        Path big = dir.resolve("big");
        Files.writeString(big, "x".repeat(TokenFile.MAX_BYTES + 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(big));
        assertTrue(e.getMessage().contains("longer than " + TokenFile.MAX_BYTES + " bytes"), e.getMessage());
        Path devZero = Path.of("/dev/zero");
        if (Files.isReadable(devZero)) {
            e = assertThrows(IllegalArgumentException.class, () -> TokenFile.read(devZero));
            assertTrue(e.getMessage().contains("longer than"), e.getMessage());
        }
        Path fits = dir.resolve("fits");
        Files.writeString(fits, "a-token-of-the-job-0123\n" + "#".repeat(TokenFile.MAX_BYTES - 40));
        assertEquals("a-token-of-the-job-0123", new String(TokenFile.read(fits), StandardCharsets.US_ASCII));
    }

    @Test
    void aFileOthersCanReadGetsAWarningAndAPrivateOneNone() throws IOException {
        Path token = dir.resolve("token");
        Files.writeString(token, "a-token-of-the-job-0123\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        String w = TokenFile.permissionWarning(token);
        assertTrue(w != null && w.contains("rw-r--r--") && w.contains("chmod 600"), String.valueOf(w));
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r-----"));
        assertTrue(TokenFile.permissionWarning(token) != null, "group-readable warns too");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        assertNull(TokenFile.permissionWarning(token));
    }

    @Test
    void aGeneratedTokenIsPrivateReadableAndNewEachTime() throws IOException {
        Path a = TokenFile.generate(dir), b = TokenFile.generate(dir);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a.getParent())));
        assertNull(TokenFile.permissionWarning(a));
        byte[] ta = TokenFile.read(a);
        assertTrue(ta.length >= 32, "a strong token: " + ta.length + " characters");
        assertNotEquals(new String(ta, StandardCharsets.US_ASCII), new String(TokenFile.read(b), StandardCharsets.US_ASCII));
        TokenFile.delete(a);
        assertTrue(!Files.exists(a) && !Files.exists(a.getParent()), "deleted with its directory");
    }
}
