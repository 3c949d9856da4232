package io.shadowsync.data;

import java.util.Arrays;

/**
 * A mini-batch in struct-of-arrays form, preallocated for {@link #capacity} examples and reused: readers
 * append examples, workers consume them, then the batch goes back to its pool.
 *
 * <p>Layout, for example i of {@link #size}:
 * <ul>
 *   <li>{@code labels[i]}: 0/1 for binary tasks, the class index for multiclass, the target for regression;</li>
 *   <li>{@code dense[i·numDense .. +numDense)}: dense features;</li>
 *   <li>{@code cat[i·numCat .. +numCat)}: one raw 32-bit categorical id per field (a missing field is 0);</li>
 *   <li>{@code sparseIdx/sparseVal[sparseOffsets[i] .. sparseOffsets[i+1])}: sparse (LibSVM) features.</li>
 * </ul>
 * Owned by one thread at a time; handed between threads through a {@code BlockingQueue} (safe publication).
 */
public final class Batch {
    public final int capacity;
    public final int numDense;
    public final int numCat;
    public int size;
    public final float[] labels;
    public final float[] dense;
    public final int[] cat;
    public final int[] sparseOffsets;
    public int[] sparseIdx;
    public float[] sparseVal;

    public Batch(int capacity, int numDense, int numCat, boolean sparse) {
        if (capacity <= 0) throw new IllegalArgumentException("batch capacity must be positive, got " + capacity);
        this.capacity = capacity;
        this.numDense = numDense;
        this.numCat = numCat;
        this.labels = new float[capacity];
        this.dense = new float[capacity * numDense];
        this.cat = new int[capacity * numCat];
        this.sparseOffsets = sparse ? new int[capacity + 1] : null;
        this.sparseIdx = sparse ? new int[capacity * 16] : null;
        this.sparseVal = sparse ? new float[capacity * 16] : null;
    }

    public Batch(int capacity, DataSchema schema) {
        this(capacity, schema.numDense(), schema.numCat(), schema.sparse());
    }

    public boolean isFull() {
        return size == capacity;
    }

    public void clear() {
        size = 0;
        if (sparseOffsets != null) sparseOffsets[0] = 0;
    }

    /** Makes room for n more sparse entries after the current end (amortised growth, not per example). */
    public void ensureSparseCapacity(int n) {
        int need = sparseOffsets[size] + n;
        if (need > sparseIdx.length) {
            int cap = Math.max(need, sparseIdx.length * 2);
            sparseIdx = Arrays.copyOf(sparseIdx, cap);
            sparseVal = Arrays.copyOf(sparseVal, cap);
        }
    }

    /**
     * Ends the example that a reader without sparse features wrote at index {@link #size}: gives it an empty sparse
     * part when this batch has sparse arrays (so the CSR offsets stay consistent), then grows the batch by one.
     */
    void endDenseExample() {
        int row = size;
        if (sparseOffsets != null) sparseOffsets[row + 1] = sparseOffsets[row];
        size = row + 1;
    }

    /** Copies example i of src to the end of this batch (same schema). */
    public void appendFrom(Batch src, int i) {
        int k = size;
        labels[k] = src.labels[i];
        System.arraycopy(src.dense, i * numDense, dense, k * numDense, numDense);
        System.arraycopy(src.cat, i * numCat, cat, k * numCat, numCat);
        if (sparseOffsets != null) {
            int lo = src.sparseOffsets[i], n = src.sparseOffsets[i + 1] - lo;
            ensureSparseCapacity(n);
            int at = sparseOffsets[k];
            System.arraycopy(src.sparseIdx, lo, sparseIdx, at, n);
            System.arraycopy(src.sparseVal, lo, sparseVal, at, n);
            sparseOffsets[k + 1] = at + n;
        }
        size = k + 1;
    }
}
