package io.shadowsync.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Splits a (possibly gzip) text file into lines without allocating: after {@link #next()} the current line is
 * {@code buf[start, end)}, without its {@code \n} or {@code \r\n}. Parsers read the bytes in place.
 *
 * <p>The file streams through one buffer; a line that crosses the end of the buffer is moved to its front
 * before the next read, and the buffer doubles (up to {@link #MAX_LINE_BYTES}) only for a line longer than
 * itself. A last line without a newline is still a line. Owned by one reader thread.
 */
final class LineScanner implements Closeable {
    static final int DEFAULT_BUFFER_BYTES = 1 << 20;
    static final int MAX_LINE_BYTES = 1 << 26;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = ONES * '\n';

    final String file;
    /** The buffer; valid until the next call of {@link #next()} (which may move or replace it). */
    byte[] buf;
    /** The current line is {@code buf[start, end)}. */
    int start, end;
    /** 1-based number of the current line; 0 before the first. */
    long lineNo;

    private final InputStream in;
    private int pos;    // first unread byte
    private int limit;  // end of the bytes read so far
    private boolean eof;
    /** Offset in the (uncompressed) file of buf[0]. */
    private long bufOffset;
    /** The last line this scanner returns is the one that starts at or before this offset (an input split's end). */
    private final long to;
    /** Whether line numbers are known: false for a split that starts inside the file (its lines are not counted). */
    private final boolean counted;
    /** An empty range {@code [a, a)}: no lines. */
    private final boolean empty;

    /**
     * Opens file (see {@link DataFiles#open}) and reads its first block; an empty file (after gunzip) is refused. A
     * UTF-8 byte-order mark at the start (Windows tools write one) is not part of line 1, and a file that holds
     * nothing else is empty.
     */
    LineScanner(Path file, int bufferBytes) throws IOException {
        this(file, bufferBytes, 0, Long.MAX_VALUE);
    }

    /**
     * The lines of an input split of a plain (not compressed) file, as Hadoop's line reader splits: from 0, the lines
     * that start at or before {@code to}; from {@code from > 0}, those after the first newline at or after {@code from}
     * through the one that starts at {@code to}; none for an empty range. Splits {@code [a, b)} and {@code [b, c)} so read
     * every line once. Line
     * numbers of a split that starts inside the file are unknown: its errors name the line's byte offset instead.
     */
    LineScanner(Path file, int bufferBytes, long from, long to) throws IOException {
        if (bufferBytes < 16) throw new IllegalArgumentException("line buffer must hold at least 16 bytes, got " + bufferBytes);
        if (from < 0 || to < from) throw new IllegalArgumentException("byte range [" + from + ", " + to + ") of " + file);
        this.file = DataFiles.name(file);
        this.in = from == 0 ? DataFiles.open(file) : DataFiles.openAt(file, from);
        this.buf = new byte[bufferBytes];
        this.to = to;
        this.counted = from == 0;
        this.empty = from == to;
        try {
            if (from == 0) {
                fill();
                if (limit >= 3 && buf[0] == (byte) 0xEF && buf[1] == (byte) 0xBB && buf[2] == (byte) 0xBF) pos = 3;
                if (limit == pos && eof) throw new DataException(this.file, 0, "empty file");
            } else {
                bufOffset = from;
                fill();
                skipToNewline(); // the line that crosses from belongs to the split before
            }
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Advances to the next line; false at the end of the file (or of the split). */
    boolean next() throws IOException {
        if (empty || bufOffset + pos > to) return false; // the next line starts after the split's end
        int scan = pos;
        for (;;) {
            int nl = indexOfNewline(buf, scan, limit);
            if (nl >= 0) {
                setLine(pos, nl);
                pos = nl + 1;
                return true;
            }
            if (eof) {
                if (pos == limit) return false;
                setLine(pos, limit);
                pos = limit;
                return true;
            }
            scan = limit - pos; // the unread tail moves to the front of the buffer
            fill();
        }
    }

    /** True when no byte is left after the current line (reads ahead if needed). */
    boolean atEnd() throws IOException {
        while (pos == limit && !eof) fill();
        return pos == limit;
    }

    /** The bytes {@code buf[from, to)} as text for an error message, quoted and cut to 40 characters. */
    String quote(int from, int to) {
        int n = Math.min(to - from, 40);
        String s = new String(buf, from, n, StandardCharsets.UTF_8);
        return "'" + s + (to - from > n ? "...'" : "'");
    }

    DataException error(String reason) {
        return counted ? new DataException(file, lineNo, reason) : DataException.atByte(file, bufOffset + start, reason);
    }

    /** Passes over the bytes up to and including the first newline (or all of them). */
    private void skipToNewline() throws IOException {
        int scan = pos;
        for (;;) {
            int nl = indexOfNewline(buf, scan, limit);
            if (nl >= 0) {
                pos = nl + 1;
                return;
            }
            pos = limit; // nothing to keep: the buffer need not grow for a long line
            if (eof) return;
            fill();
            scan = pos;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void setLine(int from, int nl) {
        start = from;
        end = nl > from && buf[nl - 1] == '\r' ? nl - 1 : nl;
        lineNo++;
    }

    /** Moves the unread bytes to the front (growing the buffer if they fill it), then reads more. */
    private void fill() throws IOException {
        int unread = limit - pos;
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, unread);
            bufOffset += pos;
            pos = 0;
            limit = unread;
        }
        if (limit == buf.length) {
            if (buf.length >= MAX_LINE_BYTES) {
                throw new DataException(file, lineNo + 1, "line longer than " + (MAX_LINE_BYTES >> 20) + " MiB");
            }
            byte[] bigger = new byte[Math.min(buf.length * 2, MAX_LINE_BYTES)];
            System.arraycopy(buf, 0, bigger, 0, limit);
            buf = bigger;
        }
        int n = DataFiles.read(in, buf, limit, buf.length - limit, file, lineNo + 1);
        limit += n;
        if (limit < buf.length) eof = true; // DataFiles.read returns short only at the end of the stream
    }

    /** First '\n' in b[from, to), or -1; eight bytes per step (SWAR zero-byte test on b XOR '\n'). */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ NEWLINES;
            long t = (x - ONES) & ~x & HIGHS; // the lowest flagged byte is exactly the first zero byte
            if (t != 0) return i + (Long.numberOfTrailingZeros(t) >>> 3);
        }
        for (; i < to; i++) {
            if (b[i] == '\n') return i;
        }
        return -1;
    }
}
