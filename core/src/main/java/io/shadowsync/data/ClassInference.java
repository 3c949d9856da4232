package io.shadowsync.data;

import java.io.IOException;
import java.util.Locale;

/**
 * Infers the number of classes of LibSVM or CSV data from its labels, for a user who did not say: one pass over the
 * labels of a source opened as regression data (every finite label accepted). Binary when every label is 0 or 1 (or,
 * with {@code plusMinusOne}, −1 or +1); C classes when they are integers 0..C−1 with C &gt; 2 and C at most
 * {@link #MAX_CLASSES}; otherwise no answer, and the reason why (a fractional, negative or very large label), for the
 * caller to turn into an error that names the flag which settles it.
 *
 * <pre>
 *   ClassInference.Result r = ClassInference.infer(new LibSvmSource(path, 0, false, false), true);
 *   if (r.classes() &lt; 0) throw new UsageException(path + ": " + r.reason() + "; give --classes");
 * </pre>
 */
public final class ClassInference {
    /** Integer labels beyond this many classes are more likely regression targets (years, counts) than classes. */
    public static final int MAX_CLASSES = 1000;

    private ClassInference() {}

    /**
     * @param classes  2, or C &gt; 2; -1 when it cannot be inferred
     * @param seen     distinct classes that occur (at most {@code classes})
     * @param examples examples read
     * @param reason   why it cannot be inferred (null when it can), e.g. "label 0.37 is not a class index"
     */
    public record Result(int classes, int seen, long examples, String reason) {}

    /**
     * Reads every label of regression (a source with numClasses 0) and infers the class count.
     *
     * @param plusMinusOne whether −1/+1 is a binary labelling in this format (LibSVM)
     */
    public static Result infer(DataSource regression, boolean plusMinusOne) throws IOException {
        if (regression.schema().numClasses() != 0) {
            throw new IllegalArgumentException("class inference reads the labels as numbers: open the source with numClasses 0");
        }
        Batch batch = new Batch(4096, regression.schema());
        boolean[] present = new boolean[MAX_CLASSES];
        boolean minusOne = false;
        long examples = 0;
        float max = 0;
        try (ExampleReader reader = regression.open()) {
            while (true) {
                batch.clear();
                while (!batch.isFull() && reader.readInto(batch)) {
                    // one example at a time; the batch is only a buffer here
                }
                if (batch.size == 0) break;
                for (int i = 0; i < batch.size; i++) {
                    float v = batch.labels[i];
                    examples++;
                    if (v == -1f && plusMinusOne) {
                        minusOne = true;
                        continue;
                    }
                    if (v < 0 || v != Math.rint(v)) {
                        return new Result(-1, 0, examples, "label " + format(v) + " (example " + examples + ") is not a class index 0, 1, 2, ...");
                    }
                    if (v >= MAX_CLASSES) {
                        return new Result(-1, 0, examples, "label " + format(v) + " (example " + examples + ") would make more than "
                                + MAX_CLASSES + " classes");
                    }
                    present[(int) v] = true;
                    max = Math.max(max, v);
                }
            }
        }
        int seen = 0;
        for (boolean p : present) if (p) seen++;
        if (minusOne) {
            if (max > 1) {
                return new Result(-1, 0, examples, "labels mix -1 (binary -1/+1) with class " + format(max));
            }
            return new Result(2, seen + 1, examples, null);
        }
        int classes = Math.max(2, (int) max + 1);
        return new Result(classes, seen, examples, null);
    }

    private static String format(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
