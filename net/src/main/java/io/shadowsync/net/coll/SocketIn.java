package io.shadowsync.net.coll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The receiving end of a rank's data connection from its left neighbour, or from a peer of its pairwise exchanges
 * ({@link SocketPlane}): a reader thread reads
 * each frame straight from the socket into one of {@code slots} reused direct buffers (each grows to the largest frame
 * it has held, so a steady state allocates nothing), and the rank's thread decodes it from there into its array. The
 * reader stops reading while every slot is full, so the sender's writes wait in its kernel buffer: the link-level
 * bound the ring schedule counts on, as a {@code Mailbox} of {@code slots} messages between threads.
 *
 * <p>Sharing contract: the slots' indices and count are guarded by the link's lock, and every change signals its
 * condition; a slot's buffer and header are written by the reader before it is published under that lock, and read
 * by the rank's thread between {@link #head()} and {@link #release()}. The reader tells its {@link Ends} how the
 * connection ended: the sender's goodbye ({@link Ends#dataEnded}), or a break ({@link Ends#dataLost}).
 */
final class SocketIn {
    /** Who hears how a connection ended (called on the reader's thread). */
    interface Ends {
        /** The sender said goodbye behind its last message. */
        void dataEnded();

        /** The connection ended without a goodbye, or broke: why. */
        void dataLost(String why);

        /** A frame no honest sender writes: what was wrong. */
        void dataMalformed(String what);
    }

    private final SocketChannel channel;
    private final Ends link;
    private final ReentrantLock lock;
    private final Condition changed;
    private final int maxBytes;
    private final ByteBuffer[] buffers;
    private final int[] opcode, total, extra;
    private int head, count; // guarded by lock
    private int tail; // the reader's only
    private volatile boolean stopped;
    private Thread reader;

    SocketIn(SocketChannel channel, Ends link, ReentrantLock lock, Condition changed, int slots, int maxBytes) {
        this.channel = channel;
        this.link = link;
        this.lock = lock;
        this.changed = changed;
        this.maxBytes = maxBytes;
        buffers = new ByteBuffer[slots];
        opcode = new int[slots];
        total = new int[slots];
        extra = new int[slots];
    }

    void start(String name) {
        reader = new Thread(this::read, name); // not Thread.ofPlatform (Java 21): net compiles for Java 17 (Spark executors)
        reader.setDaemon(true);
        reader.start();
    }

    /** Frames read and not yet released (lock held). */
    int count() {
        return count;
    }

    /** The oldest unreleased frame's slot (lock held, count() > 0). */
    int head() {
        return head;
    }

    ByteBuffer payload(int slot) {
        return buffers[slot];
    }

    int opcode(int slot) {
        return opcode[slot];
    }

    int total(int slot) {
        return total[slot];
    }

    int extra(int slot) {
        return extra[slot];
    }

    /** Frees the oldest frame's slot for the reader. */
    void release() {
        lock.lock();
        try {
            head = (head + 1) % buffers.length;
            count--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops the reader and closes the connection; what it had read is dropped. Any thread; idempotent. */
    void stop() {
        stopped = true;
        SocketPlane.closeQuietly(channel);
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void read() {
        ByteBuffer header = ByteBuffer.allocateDirect(SocketPlane.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (true) {
                lock.lock();
                try {
                    while (count == buffers.length && !stopped) changed.await();
                } finally {
                    lock.unlock();
                }
                if (stopped) return;
                header.clear();
                if (!fill(header)) {
                    link.dataLost("its data connection ended without a goodbye (process ended or connection lost)");
                    return;
                }
                int op = header.getInt(0), tot = header.getInt(4), ext = header.getInt(8), bytes = header.getInt(12);
                if (op == SocketPlane.END && bytes == 0) {
                    link.dataEnded();
                    return;
                }
                if (op <= 0 || bytes < 0 || bytes > maxBytes) {
                    link.dataMalformed("opcode " + op + ", " + bytes + " bytes where at most " + maxBytes
                            + " fit a message (do all ranks use the same chunk size?)");
                    return;
                }
                ByteBuffer b = buffers[tail];
                if (b == null || b.capacity() < bytes) {
                    b = ByteBuffer.allocateDirect(Math.max(bytes, 4096)).order(ByteOrder.LITTLE_ENDIAN);
                    buffers[tail] = b;
                }
                b.clear().limit(bytes);
                if (!fill(b)) {
                    link.dataLost("its data connection ended in the middle of a message (process ended or connection lost)");
                    return;
                }
                b.flip();
                opcode[tail] = op;
                total[tail] = tot;
                extra[tail] = ext;
                tail = (tail + 1) % buffers.length;
                lock.lock();
                try {
                    count++;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } catch (IOException e) {
            if (!stopped) link.dataLost("its data connection broke: " + e.getMessage());
        } catch (InterruptedException e) {
            // only stop() ends the reader; nothing interrupts it
        }
    }

    /** Reads until the buffer is full: false at end of stream. */
    private boolean fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) return false;
        }
        return true;
    }
}
