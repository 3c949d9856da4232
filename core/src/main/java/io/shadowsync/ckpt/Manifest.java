package io.shadowsync.ckpt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A checkpoint's table of contents, the file {@code MANIFEST} in its directory, written last and atomically: a
 * checkpoint without a valid manifest is incomplete, and one whose files differ from what the manifest lists (size,
 * CRC32C) is corrupt. Text, UTF-8, one entry a line:
 * <pre>
 * shadowsync-checkpoint 1                 format version
 * seq 12
 * created 2025-06-01T10:00:00Z
 * examples 480000                         examples trained when it was taken
 * setting optimizer.lr=0.5                the run's settings that a resumed run must match (one line each)
 * file trainer-0.bin 123456 89abcdef      name, size in bytes, CRC32C (hex)
 * crc32c 01234567                         of every byte above this line
 * </pre>
 *
 * @param format   the format version ({@link #FORMAT})
 * @param seq      the checkpoint's sequence number (its directory is {@code ckpt-<seq>})
 * @param created  when it was written (ISO-8601)
 * @param examples examples trained when it was taken
 * @param settings the run's settings (keys and values without line breaks; keys without '=')
 * @param files    every file of the checkpoint
 */
public record Manifest(int format, long seq, String created, long examples, Map<String, String> settings, List<Entry> files) {
    public static final int FORMAT = 1;
    public static final String NAME = "MANIFEST";
    private static final String HEADER = "shadowsync-checkpoint";

    /** One file of a checkpoint: its name in the directory, size in bytes and CRC32C. */
    public record Entry(String name, long size, int crc) {}

    /** The manifest as text, its checksum line last. */
    String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(HEADER).append(' ').append(format).append('\n');
        sb.append("seq ").append(seq).append('\n');
        sb.append("created ").append(created).append('\n');
        sb.append("examples ").append(examples).append('\n');
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String k = e.getKey(), v = e.getValue();
            if (k.contains("=") || k.contains("\n") || v.contains("\n")) {
                throw new IllegalArgumentException("setting '" + k + "' cannot go into a manifest: no '=' in keys, no line breaks");
            }
            sb.append("setting ").append(k).append('=').append(v).append('\n');
        }
        for (Entry f : files) {
            sb.append("file ").append(f.name()).append(' ').append(f.size()).append(' ').append(hex(f.crc())).append('\n');
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        return sb.append("crc32c ").append(hex((int) crc.getValue())).append('\n').toString();
    }

    /** Writes {@code MANIFEST} into dir atomically (temp file, fsync, rename, fsync of the directory). */
    public void write(Path dir) throws IOException {
        write(new LocalCheckpointStore(dir), "");
    }

    /**
     * Writes {@code MANIFEST} into directory dir of store so that a reader sees all of it or none
     * ({@link CheckpointStore#publish}). Not cleaned up on a signal: the final checkpoint is written from a shutdown
     * hook, beside the cleanup hook.
     */
    public void write(CheckpointStore store, String dir) throws IOException {
        store.publish(inside(dir, NAME), text().getBytes(StandardCharsets.UTF_8));
    }

    /** name inside directory dir of a store ("" is its root). */
    public static String inside(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    private static String hex(int v) {
        return HexFormat.of().toHexDigits(v);
    }

    /**
     * Reads and checks dir's manifest: present, its checksum right, a format this build reads.
     *
     * @throws ModelFileException naming the manifest and what is wrong with it
     */
    public static Manifest read(Path dir) throws IOException {
        return read(new LocalCheckpointStore(dir), "");
    }

    /** As {@link #read(Path)}, of directory dir of store. */
    public static Manifest read(CheckpointStore store, String dir) throws IOException {
        String file = store.where(inside(dir, NAME));
        byte[] bytes;
        try (java.io.InputStream in = java.nio.channels.Channels.newInputStream(store.read(inside(dir, NAME)))) {
            bytes = in.readAllBytes();
        } catch (NoSuchFileException e) {
            throw new ModelFileException(store.where(dir), "no " + NAME + " (incomplete: the writer stopped before it finished)");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        int last = text.lastIndexOf("crc32c ");
        if (last < 0 || !text.endsWith("\n")) throw new ModelFileException(file, "is truncated (no checksum line)");
        CRC32C crc = new CRC32C();
        byte[] body = text.substring(0, last).getBytes(StandardCharsets.UTF_8);
        crc.update(body);
        String stored = text.substring(last + 7, text.length() - 1);
        if (!stored.equals(hex((int) crc.getValue()))) throw new ModelFileException(file, "checksum mismatch: the manifest is corrupt");
        String[] lines = text.substring(0, last).split("\n");
        if (lines.length < 4 || !lines[0].startsWith(HEADER + " ")) throw new ModelFileException(file, "is not a shadowsync checkpoint manifest");
        int format = parseInt(file, lines[0].substring(HEADER.length() + 1));
        if (format != FORMAT) {
            throw new ModelFileException(file, "has format version " + format + "; this build reads version " + FORMAT);
        }
        long seq = -1, examples = -1;
        String created = null;
        Map<String, String> settings = new LinkedHashMap<>();
        List<Entry> files = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i];
            int sp = l.indexOf(' ');
            String key = sp < 0 ? l : l.substring(0, sp), rest = sp < 0 ? "" : l.substring(sp + 1);
            switch (key) {
                case "seq" -> seq = parseLong(file, rest);
                case "created" -> created = rest;
                case "examples" -> examples = parseLong(file, rest);
                case "setting" -> {
                    int eq = rest.indexOf('=');
                    if (eq < 0) throw new ModelFileException(file, "line " + (i + 1) + ": a setting is key=value");
                    settings.put(rest.substring(0, eq), rest.substring(eq + 1));
                }
                case "file" -> {
                    String[] f = rest.split(" ");
                    if (f.length != 3 || f[0].contains("/") || f[0].contains("\\") || f[0].startsWith(".")) {
                        throw new ModelFileException(file, "line " + (i + 1) + ": a file entry is 'file NAME SIZE CRC'");
                    }
                    files.add(new Entry(f[0], parseLong(file, f[1]), (int) parseHex(file, f[2])));
                }
                default -> throw new ModelFileException(file, "line " + (i + 1) + ": unknown entry '" + key + "'");
            }
        }
        if (seq < 0 || examples < 0 || created == null) throw new ModelFileException(file, "lacks its seq, created or examples line");
        return new Manifest(format, seq, created, examples, settings, files);
    }

    /** The entry of the file called name, or null when the manifest does not list it. */
    public Entry entry(String name) {
        for (Entry e : files) if (e.name().equals(name)) return e;
        return null;
    }

    /**
     * Checks every listed file against its size and CRC32C; the first that differs is named.
     *
     * @throws ModelFileException naming the file: missing, truncated, or corrupt
     */
    public void verifyFiles(Path dir) throws IOException {
        verifyFiles(new LocalCheckpointStore(dir), "");
    }

    /** As {@link #verifyFiles(Path)}, of directory dir of store. */
    public void verifyFiles(CheckpointStore store, String dir) throws IOException {
        for (Entry e : files) verify(store, dir, e);
    }

    /** Checks one file of dir against its entry: present, its size and CRC32C as listed. */
    public static void verify(Path dir, Entry e) throws IOException {
        verify(new LocalCheckpointStore(dir), "", e);
    }

    /** As {@link #verify(Path, Entry)}, of directory dir of store. */
    public static void verify(CheckpointStore store, String dir, Entry e) throws IOException {
        String name = inside(dir, e.name());
        String f = store.where(name);
        long size;
        try {
            size = store.size(name);
        } catch (NoSuchFileException x) {
            throw new ModelFileException(f, "is missing");
        }
        if (size != e.size()) {
            throw new ModelFileException(f, "has " + size + " bytes, the manifest says " + e.size() + (size < e.size() ? " (truncated)" : ""));
        }
        CRC32C crc = new CRC32C();
        try (InputStream in = java.nio.channels.Channels.newInputStream(store.read(name))) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) crc.update(buf, 0, n);
        }
        if ((int) crc.getValue() != e.crc()) throw new ModelFileException(f, "checksum mismatch: the file is corrupt");
    }

    private static int parseInt(String file, String s) {
        long v = parseLong(file, s);
        if (v > Integer.MAX_VALUE) throw new ModelFileException(file, "number out of range: " + s);
        return (int) v;
    }

    private static long parseLong(String file, String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ModelFileException(file, "'" + s + "' is not a number");
        }
    }

    private static long parseHex(String file, String s) {
        try {
            if (s.length() != 8) throw new NumberFormatException();
            return HexFormat.fromHexDigits(s);
        } catch (NumberFormatException e) {
            throw new ModelFileException(file, "'" + s + "' is not a CRC32C in hex");
        }
    }
}
