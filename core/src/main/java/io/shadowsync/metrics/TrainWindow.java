package io.shadowsync.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Training loss over the most recent N examples, for progress lines and logs: worker threads record one
 * entry per batch (summed loss, example count, summed labels); a reader thread sums the entries whose batches
 * ended within the last N examples.
 *
 * <p>Sharing contract: <b>many writers, one slot each; any number of readers; no locks.</b> Worker w calls
 * {@link #record} with its own index only, and writes only its own ring of entries; no two threads may
 * record with the same index. A shared {@link AtomicLong} numbers the examples (one atomic add per batch),
 * which places every batch in one global order. Each ring entry is published like a seqlock: the writer
 * marks it invalid, writes it, then publishes its batch number with a release store; the reader checks that
 * number before and after reading the entry and drops an entry that a writer was overwriting (only ever the
 * oldest ones, about to leave the window anyway). A snapshot is therefore a consistent sum of whole batches,
 * never a torn one, though batches finishing during the read may or may not be in it.
 *
 * <p>Granularity: a batch is in the window when its last example is among the latest N, so a snapshot may
 * cover up to N + (batch size − 1) examples. Each ring holds enough batches of {@code batchSize} examples to
 * cover the whole window by itself; a worker recording smaller batches (other than its last) makes the window
 * shorter than N, never wrong.
 */
public final class TrainWindow {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);

    /** Sums over the batches in the window. */
    public record Snapshot(long examples, double sumLoss, double sumLabels) {
        /** Mean loss per example; NaN when empty. */
        public double meanLoss() {
            return sumLoss / examples;
        }

        /** Mean label (binary tasks); NaN when empty. */
        public double baseRate() {
            return sumLabels / examples;
        }

        /** Normalized entropy over the window (binary tasks, loss = log loss); NaN when one class only. */
        public double ne() {
            double h = BinaryMetrics.entropy(baseRate());
            return h > 0 ? meanLoss() / h : Double.NaN;
        }
    }

    /** One worker's ring; written by that worker only. */
    private static final class Ring {
        final long[] seq;       // batch number held by each entry, −1 while it is being written
        final double[] loss;
        final double[] labels;
        final int[] count;
        final long[] end;       // global example position just after the batch
        volatile long published; // batches recorded so far by this worker

        Ring(int capacity) {
            seq = new long[capacity];
            Arrays.fill(seq, -1L);
            loss = new double[capacity];
            labels = new double[capacity];
            count = new int[capacity];
            end = new long[capacity];
        }
    }

    private final long window;
    private final Ring[] rings;
    private final AtomicLong examples = new AtomicLong();

    /**
     * @param workers          number of writer threads (slot indices 0 .. workers−1)
     * @param windowExamples   N, the examples the window covers
     * @param batchSize        the examples per recorded batch, which sizes the rings
     */
    public TrainWindow(int workers, long windowExamples, int batchSize) {
        if (workers <= 0) throw new IllegalArgumentException("a train window needs at least one worker, got " + workers);
        if (windowExamples <= 0) throw new IllegalArgumentException("the window must cover at least one example, got " + windowExamples);
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        long capacity = (windowExamples + batchSize - 1) / batchSize + 1;
        if (capacity > (1 << 24)) {
            throw new IllegalArgumentException("a window of " + windowExamples + " examples in batches of " + batchSize
                    + " needs " + capacity + " entries per worker; use a shorter window or larger batches");
        }
        this.window = windowExamples;
        this.rings = new Ring[workers];
        for (int w = 0; w < workers; w++) rings[w] = new Ring((int) capacity);
    }

    /** Records one batch of worker's: its summed loss, its example count and its summed labels (0 if not binary). */
    public void record(int worker, double sumLoss, int count, double sumLabels) {
        if (worker < 0 || worker >= rings.length) {
            throw new IllegalArgumentException("worker " + worker + " has no slot; this window has " + rings.length);
        }
        if (count <= 0) throw new IllegalArgumentException("a recorded batch has at least one example, got " + count);
        Ring r = rings[worker];
        long end = examples.addAndGet(count);
        long n = r.published; // only this thread writes it
        int i = (int) (n % r.seq.length);
        SEQ.setOpaque(r.seq, i, -1L);
        VarHandle.storeStoreFence(); // the invalid mark is visible before any of the new values
        r.loss[i] = sumLoss;
        r.labels[i] = sumLabels;
        r.count[i] = count;
        r.end[i] = end;
        SEQ.setRelease(r.seq, i, n);
        r.published = n + 1;
    }

    /** Examples recorded since the start, by all workers. */
    public long totalExamples() {
        return examples.get();
    }

    /** The sums over the batches that ended within the latest N examples. */
    public Snapshot snapshot() {
        long from = examples.get() - window; // batches ending after this position are in the window
        long n = 0;
        double loss = 0, labels = 0;
        for (Ring r : rings) {
            long published = r.published;
            int cap = r.seq.length;
            for (long k = published - 1; k >= 0 && k >= published - cap; k--) {
                int i = (int) (k % cap);
                if ((long) SEQ.getAcquire(r.seq, i) != k) break; // being overwritten: older entries are gone too
                double l = r.loss[i], b = r.labels[i];
                int c = r.count[i];
                long end = r.end[i];
                VarHandle.loadLoadFence(); // the values above are read before the check below
                if ((long) SEQ.getOpaque(r.seq, i) != k) break;
                if (end <= from) break; // this worker's older batches end even earlier
                n += c;
                loss += l;
                labels += b;
            }
        }
        return new Snapshot(n, loss, labels);
    }
}
