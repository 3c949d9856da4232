package io.shadowsync.metrics;

/**
 * Quality of a C-class classifier from its class probabilities: mean cross-entropy of the true class
 * (probability clipped below at {@link BinaryMetrics#CLIP}, so a confident mistake is finite) and accuracy
 * by argmax (the first class wins a tie). Not thread-safe: one per worker, combined with {@link #merge}.
 */
public final class MulticlassMetrics implements MetricAccumulator {
    private final int classes;
    private long count;
    private long correct;
    private double sumCrossEntropy;

    public MulticlassMetrics(int classes) {
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
        this.classes = classes;
    }

    public int classes() {
        return classes;
    }

    /** Adds one example: class probabilities {@code probs[off .. off+C)} and the true class label. */
    public void add(float[] probs, int off, int label) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("a class label lies in [0, " + classes + "), got " + label);
        }
        int best = 0;
        float bestP = probs[off];
        for (int c = 1; c < classes; c++) {
            if (probs[off + c] > bestP) {
                bestP = probs[off + c];
                best = c;
            }
        }
        if (best == label) correct++;
        sumCrossEntropy -= Math.log(Math.max(probs[off + label], BinaryMetrics.CLIP));
        count++;
    }

    /** Adds n examples: probabilities {@code [n × C]} row-major, labels the class indices as floats (as in a Batch). */
    @Override
    public void add(float[] probs, float[] labels, int n) {
        for (int i = 0; i < n; i++) {
            int label = (int) labels[i];
            if (label != labels[i]) throw new IllegalArgumentException("a class label is a whole number, got " + labels[i]);
            add(probs, i * classes, label);
        }
    }

    @Override
    public void merge(MetricAccumulator other) {
        if (!(other instanceof MulticlassMetrics o) || o.classes != classes) {
            throw new IllegalArgumentException("cannot merge " + describe(other) + " into MulticlassMetrics of "
                    + classes + " classes");
        }
        if (o == this) throw new IllegalArgumentException("cannot merge an accumulator into itself");
        count += o.count;
        correct += o.correct;
        sumCrossEntropy += o.sumCrossEntropy;
    }

    @Override
    public long count() {
        return count;
    }

    /** Mean −log p(true class); NaN before any example. */
    public double crossEntropy() {
        return sumCrossEntropy / count;
    }

    /** Fraction of examples whose most probable class is the true one. */
    public double accuracy() {
        return (double) correct / count;
    }

    @Override
    public Metrics result() {
        return Metrics.multiclass(count, crossEntropy(), accuracy());
    }

    private static String describe(MetricAccumulator a) {
        return a instanceof MulticlassMetrics m ? "MulticlassMetrics of " + m.classes + " classes" : a.getClass().getSimpleName();
    }
}
