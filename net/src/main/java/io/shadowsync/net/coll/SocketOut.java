package io.shadowsync.net.coll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The sending end of a rank's data connection to its right neighbour ({@link SocketPlane}): a frame is built in one
 * reused direct buffer (the codec writes the floats straight into it, the only copy before the kernel's) and written
 * without blocking; while the socket is full the rank's thread waits on a selector, at most the time it is given, and
 * {@link #wake()} cuts the wait short so that the link can look at its state (a failure, an interrupt, a goodbye).
 *
 * <p>Sharing contract: {@link #frame} and {@link #drain} are called by the rank's thread only; {@link #wake()} and
 * {@link #close()} may be called from any thread (a blocked write then fails or returns early).
 */
public final class SocketOut implements AutoCloseable {
    private static final Consumer<SelectionKey> IGNORE = k -> { };

    private final SocketChannel channel;
    private final Selector selector;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);

    public SocketOut(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        selector = Selector.open();
        try {
            channel.register(selector, SelectionKey.OP_WRITE);
        } catch (IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
    }

    /** The reused buffer, cleared, with the header written and room for {@code bytes} of payload after it. */
    public ByteBuffer frame(int opcode, int total, int extra, int bytes) {
        int need = SocketPlane.HEADER_BYTES + bytes;
        if (buffer.capacity() < need) {
            buffer = ByteBuffer.allocateDirect(Math.max(need, 2 * buffer.capacity())).order(ByteOrder.LITTLE_ENDIAN);
        }
        buffer.clear();
        buffer.putInt(opcode).putInt(total).putInt(extra).putInt(bytes);
        return buffer;
    }

    /**
     * Writes the buffer (flipped by the caller) on: true once all of it is in the kernel; false when {@code nanos}
     * passed, or the wait was woken or interrupted, with part of it perhaps written (call again to go on).
     */
    public boolean drain(long nanos) throws IOException {
        long deadline = System.nanoTime() + nanos;
        try {
            while (buffer.hasRemaining()) {
                if (channel.write(buffer) > 0) continue;
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                if (selector.select(IGNORE, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0) return false;
            }
            return true;
        } catch (ClosedSelectorException e) {
            throw new IOException("the data connection was closed", e);
        }
    }

    /** Makes a waiting {@link #drain} return now. */
    public void wake() {
        selector.wakeup();
    }

    @Override
    public void close() {
        SocketPlane.closeQuietly(channel);
        SocketPlane.closeQuietly(selector);
    }
}
