package io.shadowsync.comm;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The channel from one rank to its right neighbour in a ring: a bounded FIFO of preallocated message slots.
 * Sharing contract: <b>one producer thread</b> (the left neighbour) and <b>one consumer thread</b> (the owner).
 * The producer {@link #claim}s the free slot at the tail, fills it outside the lock, and {@link #publish}es it; the
 * consumer {@link #take}s the slot at the head, reads it outside the lock, and {@link #release}s it. The lock
 * hand-offs order the slot's contents between the two threads, so slot buffers are reused without copies and
 * without allocation once they have grown to the largest chunk.
 *
 * <p>Closing: {@link #closeProducer} (the sender left) lets the consumer drain what was sent, then makes it fail;
 * {@link #closeConsumer} (the owner left) makes the sender fail at once; {@link #fail} (the group broke) makes both
 * fail at once. A wait that sees no progress for the timeout throws {@link CollectiveTimeoutException} naming the
 * peer it waited for.
 */
final class Mailbox {
    /** One message: a header the receiver checks against its own call, and a payload of {@code len} floats. */
    static final class Slot {
        float[] buf = new float[0];
        int len;
        /** A byte message's bytes (reused, grown as needed) and their count. */
        byte[] bytes = new byte[0];
        int byteLen;
        /** Which operation sent it, the operation's total length, and one operation-specific field (root, op). */
        int opcode, total, extra;
        /** System.nanoTime() at which the message is delivered (0: already). */
        long deliverAt;

        /** Makes room for n bytes, growing (never shrinking) the reused buffer. */
        byte[] ensureBytes(int n) {
            if (bytes.length < n) bytes = new byte[n];
            return bytes;
        }

        /** Makes room for n floats, growing (never shrinking) the reused buffer. */
        float[] ensure(int n) {
            if (buf.length < n) buf = new float[n];
            return buf;
        }
    }

    private final int producer;
    private final int consumer;
    private final long timeoutNanos;
    private final Slot[] slots;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private int head;
    private int count;
    private boolean producerClosed;
    private boolean consumerClosed;
    private RuntimeException failure;

    Mailbox(int producer, int consumer, int capacity, long timeoutNanos) {
        this.producer = producer;
        this.consumer = consumer;
        this.timeoutNanos = timeoutNanos;
        this.slots = new Slot[capacity];
        for (int i = 0; i < capacity; i++) slots[i] = new Slot();
    }

    /** Producer: waits for a free slot and returns it, to be filled and then {@link #publish}ed. */
    Slot claim(String op) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long left = timeoutNanos;
            while (true) {
                if (failure != null) throw broken(producer, op);
                if (consumerClosed) {
                    throw new IllegalStateException("rank " + producer + " cannot send to rank " + consumer + " in " + op
                            + ": rank " + consumer + " has closed its collective handle");
                }
                if (count < slots.length) return slots[(head + count) % slots.length];
                if (left <= 0) {
                    throw new CollectiveTimeoutException(producer, consumer, op, "to make room for a message",
                            timeoutNanos);
                }
                left = notFull.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Producer: hands the claimed slot to the consumer. */
    void publish() {
        lock.lock();
        try {
            count++;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Consumer: waits for the next message and returns its slot, to be read and then {@link #release}d. */
    Slot take(String op) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long left = timeoutNanos;
            while (true) {
                if (failure != null) throw broken(consumer, op);
                if (consumerClosed) {
                    throw new IllegalStateException("rank " + consumer + " has closed its collective handle");
                }
                if (count > 0) return slots[head];
                if (producerClosed) {
                    throw new IllegalStateException("rank " + consumer + " waits in " + op + " for a message from rank "
                            + producer + ", which has closed its collective handle");
                }
                if (left <= 0) {
                    throw new CollectiveTimeoutException(consumer, producer, op, "for a message", timeoutNanos);
                }
                left = notEmpty.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Consumer: frees the slot it took. */
    void release() {
        lock.lock();
        try {
            head = (head + 1) % slots.length;
            count--;
            notFull.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The producer will send nothing more; the consumer may still read what was sent. */
    void closeProducer() {
        lock.lock();
        try {
            producerClosed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The consumer reads nothing more; a producer waiting for room fails. */
    void closeConsumer() {
        lock.lock();
        try {
            consumerClosed = true;
            notFull.signalAll();
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The group is broken: every wait on this mailbox, now or later, throws an exception caused by this one. */
    void fail(RuntimeException cause) {
        lock.lock();
        try {
            if (failure == null) failure = cause;
            notFull.signalAll();
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private IllegalStateException broken(int rank, String op) {
        return new IllegalStateException("rank " + rank + " in " + op + ": the collective group has failed: "
                + failure.getMessage(), failure);
    }
}
