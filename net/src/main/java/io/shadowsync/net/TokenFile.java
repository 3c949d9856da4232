package io.shadowsync.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The job's shared secret in a file: read with a bound (a token is a line, not a stream such as /dev/zero), checked
 * for permissions the way ssh checks a private key, and generated for a job that was given none.
 */
public final class TokenFile {
    /** The most bytes read from a token file; a longer file is refused. */
    public static final int MAX_BYTES = 4096;

    private TokenFile() {}

    /**
     * The token: the file's first line, trimmed, printable ASCII without spaces, at least 16 characters.
     *
     * @throws IllegalArgumentException naming the file and what is wrong (missing, unreadable, too long, too short)
     */
    public static byte[] read(Path file) {
        byte[] raw;
        try (InputStream in = Files.newInputStream(file)) {
            raw = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("token file " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("token file " + file + ": permission denied");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the token file " + file + ": " + e.getMessage());
        }
        if (raw.length > MAX_BYTES) {
            throw new IllegalArgumentException("token file " + file + " is longer than " + MAX_BYTES + " bytes; it should hold one line, the token");
        }
        String s = new String(raw, StandardCharsets.UTF_8).strip();
        int nl = s.indexOf('\n');
        if (nl >= 0) s = s.substring(0, nl).strip();
        if (s.length() < 16) {
            throw new IllegalArgumentException("token file " + file + " holds " + s.length()
                    + " characters; a shared token needs at least 16 (e.g. `head -c 32 /dev/urandom | base64 > FILE`)");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("token file " + file + ": the token must be printable ASCII "
                        + "without spaces (character " + (i + 1) + " is not)");
            }
        }
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * A warning when group or others may read the file (as ssh warns of a private key), or null when only its owner
     * can, or the file system has no POSIX permissions.
     */
    public static String permissionWarning(Path file) {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) return null;
        Set<PosixFilePermission> p;
        try {
            p = view.readAttributes().permissions();
        } catch (IOException e) {
            return null; // reading it fails with its own sentence
        }
        boolean open = p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)
                || p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE);
        if (!open) return null;
        return "token file " + file + " has permissions " + PosixFilePermissions.toString(p)
                + ": other users of this host can read the job's secret; make it readable by its owner only (chmod 600 " + file + ")";
    }

    /**
     * Writes a new random token (32 bytes from {@link SecureRandom}, base64) into a new directory under {@code parent}
     * that only this user can enter, in a file only this user can read, and returns the file. The token never appears
     * on a command line or in a log: processes are handed the file's path.
     */
    public static Path generate(Path parent) throws IOException {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return write(parent, Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
    }

    /**
     * Writes a token made elsewhere (e.g. on a Spark driver, handed to its tasks) as {@link #generate} writes a new one:
     * into a new directory under {@code parent} that only this user can enter, in a file only this user can read.
     */
    public static Path write(Path parent, String token) throws IOException {
        Path dir = Files.createTempDirectory(parent, "shadowsync-job-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve("token");
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
        return file;
    }

    /** Removes a file {@link #generate} wrote, and its directory. */
    public static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        } catch (IOException e) {
            // a temporary directory the system cleans; nothing to do
        }
    }
}
