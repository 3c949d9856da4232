package io.shadowsync.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes Criteo TSV rows (label, 13 decimal counts, 26 ids as {@code %08x}, tab-separated, {@code \n}) the way
 * the PyTorch peer's {@code write_criteo_tsv} does, formatting bytes by hand into one reused buffer.
 * The file appears atomically: rows go to {@code name.tmp}, which {@link #commit()} syncs and renames; a writer
 * closed without commit deletes its temp file. Owned by one thread.
 */
final class CriteoTsvWriter implements Closeable {
    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int ROW_MAX_BYTES = 2 + 13 * 12 + 26 * 9 + 1;

    private final Path target;
    private final Path temp;
    private final FileChannel out;
    private final byte[] buf = new byte[1 << 16];
    private final ByteBuffer view = ByteBuffer.wrap(buf);
    private int len;
    private boolean committed;

    CriteoTsvWriter(Path target) throws IOException {
        this.target = target;
        this.temp = target.resolveSibling(target.getFileName() + ".tmp");
        io.shadowsync.ckpt.AtomicFiles.inFlight(temp); // a signal deletes it
        this.out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
    }

    /** Appends one row; counts must be non-negative. */
    void write(boolean label, int[] counts, int[] ids) throws IOException {
        if (len + ROW_MAX_BYTES > buf.length) flush();
        byte[] b = buf;
        int p = len;
        b[p++] = (byte) (label ? '1' : '0');
        for (int count : counts) {
            b[p++] = '\t';
            p = writeDecimal(b, p, count);
        }
        for (int id : ids) {
            b[p++] = '\t';
            for (int shift = 28; shift >= 0; shift -= 4) b[p++] = HEX_DIGITS[(id >>> shift) & 0xf];
        }
        b[p++] = '\n';
        len = p;
    }

    private static int writeDecimal(byte[] b, int p, int v) {
        if (v < 10) {
            b[p] = (byte) ('0' + v);
            return p + 1;
        }
        int digits = 0;
        for (int t = v; t > 0; t /= 10) digits++;
        for (int i = p + digits - 1; i >= p; i--, v /= 10) b[i] = (byte) ('0' + v % 10);
        return p + digits;
    }

    private void flush() throws IOException {
        view.clear().limit(len);
        while (view.hasRemaining()) out.write(view);
        len = 0;
    }

    /** Writes what is buffered and forces it to disk; the temp file stays until {@link #commit()}. */
    void finish() throws IOException {
        if (!out.isOpen()) return;
        flush();
        out.force(true);
        out.close();
    }

    /** Finishes, then renames the temp file over the target. */
    void commit() throws IOException {
        finish();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        io.shadowsync.ckpt.AtomicFiles.settled(temp);
    }

    @Override
    public void close() throws IOException {
        if (committed) return;
        out.close();
        Files.deleteIfExists(temp);
        io.shadowsync.ckpt.AtomicFiles.settled(temp);
    }
}
