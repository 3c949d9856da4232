package io.shadowsync.nn;

/**
 * A stack of {@link Linear} layers, each followed by an {@link Activation} (the last one optionally not):
 * widths {@code [in, h1, …, out]} give {@code widths.length − 1} layers named {@code prefix.0},
 * {@code prefix.1}, … Immutable and shared by workers; per-worker activations live in a {@link Scratch}.
 *
 * <p>Activations run in place on each layer's output, so one buffer per layer holds what backward needs — or, with
 * activation checkpointing ({@link #newScratch(int, int)}), every k-th layer's, the others recomputed in backward.
 */
public final class MlpStack {
    private final Linear[] layers;
    private final Activation act;
    private final boolean activateLast;
    private final int maxWidth;

    /**
     * Per-worker buffers for a batch of at most {@code maxBatch} examples. Never shared between threads.
     *
     * <p>Activation checkpointing ({@code every} = k): the output of hidden layer l is kept when (l + 1) mod k = 0;
     * the others live in k − 1 segment buffers, which hold one segment (the layers between two kept outputs) at a
     * time. Forward leaves the top segment there; backward, reaching a lower segment, recomputes it from the kept
     * output below it (or the stack's input) with the same kernels, so the gradients are those of k = 1 bit for bit.
     * k = 1 keeps every output (no recomputation).
     */
    public static final class Scratch {
        final int maxBatch;
        final int every;
        /** kept[j] = output of hidden layer (j + 1)·k − 1 after its activation, [maxBatch × its width]. */
        final float[][] kept;
        /** seg[i] = output of the current segment's hidden layer at position i (l mod k = i), [maxBatch × widest such]. */
        final float[][] seg;
        /** The segment whose outputs seg holds (segment s: hidden layers s·k … s·k + k − 2); −1: none. */
        int validSegment = -1;
        /** Ping-pong gradient buffers, [maxBatch × maxWidth] each. */
        final float[] g0;
        final float[] g1;

        Scratch(MlpStack s, int maxBatch, int every) {
            if (every < 1) throw new IllegalArgumentException("--recompute-every must be at least 1, got " + every);
            this.maxBatch = maxBatch;
            this.every = every;
            int hidden = Math.max(0, s.layers.length - 1);
            kept = new float[hidden / every][];
            int[] segWidth = new int[Math.min(every - 1, hidden)];
            for (int l = 0; l < hidden; l++) {
                if (isKept(l, every)) kept[(l + 1) / every - 1] = new float[maxBatch * s.layers[l].out];
                else segWidth[l % every] = Math.max(segWidth[l % every], s.layers[l].out);
            }
            seg = new float[segWidth.length][];
            for (int i = 0; i < seg.length; i++) seg[i] = new float[maxBatch * segWidth[i]];
            g0 = new float[maxBatch * s.maxWidth];
            g1 = new float[maxBatch * s.maxWidth];
        }

        /** The buffer of hidden layer l's output. */
        float[] h(int l) {
            return isKept(l, every) ? kept[(l + 1) / every - 1] : seg[l % every];
        }

        /** Floats of the hidden activations this scratch holds: the kept outputs and the segment buffers. */
        public long activationFloats() {
            long n = 0;
            for (float[] a : kept) n += a.length;
            for (float[] a : seg) n += a.length;
            return n;
        }
    }

    static boolean isKept(int l, int every) {
        return (l + 1) % every == 0;
    }

    /**
     * @param widths       {@code [in, h1, …, out]}, at least two entries, all positive
     * @param act          activation after every layer except possibly the last
     * @param activateLast whether the last layer is followed by {@code act} too
     */
    public MlpStack(ParameterSet.Builder params, String prefix, int[] widths, Activation act, boolean activateLast) {
        if (widths.length < 2) throw new IllegalArgumentException("an MLP stack needs at least an input and an output width, got " + widths.length + " widths");
        this.layers = new Linear[widths.length - 1];
        int mw = 0;
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Linear(params, prefix + "." + l, widths[l], widths[l + 1]);
            mw = Math.max(mw, Math.max(widths[l], widths[l + 1]));
        }
        this.act = act;
        this.activateLast = activateLast;
        this.maxWidth = mw;
    }

    /** The widths of a stack: {@code [in, hidden…, out]}. */
    public static int[] widths(int in, int[] hidden, int out) {
        int[] w = new int[hidden.length + 2];
        w[0] = in;
        System.arraycopy(hidden, 0, w, 1, hidden.length);
        w[w.length - 1] = out;
        return w;
    }

    /**
     * Parameters of a stack of the given widths {@code [in, h1, …, out]}: weights and biases of every layer
     * ({@code Long.MAX_VALUE} when that overflows a long).
     */
    public static long parameters(int[] widths) {
        double n = 0; // a double: absurd widths saturate at Long.MAX_VALUE when cast, instead of wrapping around
        for (int l = 0; l + 1 < widths.length; l++) n += (double) widths[l] * widths[l + 1] + widths[l + 1];
        return (long) n;
    }

    /** Floats per example a {@link Scratch} of a stack of these widths holds: the hidden outputs and two gradient buffers. */
    public static long scratchFloatsPerExample(int[] widths) {
        return scratchFloatsPerExample(widths, 1);
    }

    /** As {@link #scratchFloatsPerExample(int[])} with activation checkpointing every k layers (see {@link Scratch}). */
    public static long scratchFloatsPerExample(int[] widths, int every) {
        return activationFloatsPerExample(widths, every) + 2L * maxWidth(widths);
    }

    /**
     * Floats per example of the hidden activations kept for backward with checkpointing every k layers: the kept
     * outputs plus the k − 1 segment buffers (k = 1: every hidden output).
     */
    public static long activationFloatsPerExample(int[] widths, int every) {
        if (every < 1) throw new IllegalArgumentException("--recompute-every must be at least 1, got " + every);
        int hidden = Math.max(0, widths.length - 2);
        long n = 0;
        long[] seg = new long[Math.min(every - 1, hidden)];
        for (int l = 0; l < hidden; l++) {
            if (isKept(l, every)) n += widths[l + 1];
            else seg[l % every] = Math.max(seg[l % every], widths[l + 1]);
        }
        for (long w : seg) n += w;
        return n;
    }

    /** The widest layer of a stack of these widths (the row length of its gradient buffers). */
    public static int maxWidth(int[] widths) {
        int max = 0;
        for (int w : widths) max = Math.max(max, w);
        return max;
    }

    public int inputs() {
        return layers[0].in;
    }

    public int outputs() {
        return layers[layers.length - 1].out;
    }

    public int depth() {
        return layers.length;
    }

    public Linear layer(int l) {
        return layers[l];
    }

    public Scratch newScratch(int maxBatch) {
        return new Scratch(this, maxBatch, 1);
    }

    /** A scratch that keeps every k-th hidden output and recomputes the others in backward (k = 1: keeps all). */
    public Scratch newScratch(int maxBatch, int every) {
        return new Scratch(this, maxBatch, every);
    }

    private boolean activated(int l) {
        return l < layers.length - 1 || activateLast;
    }

    /** Seeded init of every layer: He where a ReLU follows, Glorot otherwise; biases zero. */
    public void init(float[] p, long seed) {
        for (int l = 0; l < layers.length; l++) layers[l].init(p, seed, activated(l) && act == Activation.RELU);
    }

    // y[B×out] = stack(x[B×in]); keeps every hidden output in s for backward
    public void forward(float[] p, float[] x, int xOff, int B, Scratch s, float[] y, int yOff) {
        forwardLayers(p, x, xOff, -1, B, s, y, yOff);
    }

    /** {@link #forward} on an input stored transposed, {@code xT [in × ldx]} (see {@link Linear#forwardTransposedInput}). */
    // y[B×out] = stack(xT[in×B]ᵀ)
    public void forwardTransposedInput(float[] p, float[] xT, int xOff, int ldx, int B, Scratch s, float[] y, int yOff) {
        if (ldx < B) throw new IllegalArgumentException("a transposed input of " + B + " examples needs a row stride ≥ " + B + ", got " + ldx);
        forwardLayers(p, xT, xOff, ldx, B, s, y, yOff);
    }

    // ldx < 0: x is [B×in] row-major; else x is stored transposed, [in × ldx]
    private void forwardLayers(float[] p, float[] x, int xOff, int ldx, int B, Scratch s, float[] y, int yOff) {
        checkBatch(B, s);
        float[] in = x;
        int inOff = xOff;
        for (int l = 0; l < layers.length; l++) {
            Linear L = layers[l];
            boolean last = l == layers.length - 1;
            float[] o = last ? y : s.h(l);
            int oOff = last ? yOff : 0;
            if (l == 0 && ldx >= 0) L.forwardTransposedInput(o, oOff, in, inOff, ldx, p, B);
            else L.forward(o, oOff, in, inOff, p, B);
            if (activated(l)) act.forward(o, oOff, o, oOff, B * L.out);
            in = o;
            inOff = oOff;
        }
        // the segment buffers hold the top segment's outputs, written last
        s.validSegment = layers.length >= 2 ? (layers.length - 2) / s.every : -1;
    }

    /**
     * Makes s's segment buffers hold the outputs of hidden layer l's segment, recomputing them from the kept output
     * below the segment (or the input x) when they hold another: the same kernels on the same input as forward.
     */
    private void ensure(int l, float[] p, float[] x, int xOff, int ldx, int B, Scratch s) {
        if (isKept(l, s.every)) return;
        int segment = l / s.every;
        if (s.validSegment == segment) return;
        int start = segment * s.every;
        float[] in = start == 0 ? x : s.kept[segment - 1];
        int inOff = start == 0 ? xOff : 0;
        for (int j = start; j < start + s.every - 1 && j < layers.length - 1; j++) {
            Linear L = layers[j];
            float[] o = s.seg[j % s.every];
            if (j == 0 && ldx >= 0) L.forwardTransposedInput(o, 0, in, inOff, ldx, p, B);
            else L.forward(o, 0, in, inOff, p, B);
            act.forward(o, 0, o, 0, B * L.out); // hidden layers are always activated
            in = o;
            inOff = 0;
        }
        s.validSegment = segment;
    }

    /**
     * Backward of {@link #forward} for the same x, B and scratch: {@code dy [B×out]} is the loss gradient
     * with respect to y (overwritten: it is used as scratch); parameter gradients go into {@code grad}
     * (added when {@code accumulate}, else overwritten); {@code dx [B×in]} is written only when non-null.
     */
    public void backward(float[] p, float[] grad, boolean accumulate, float[] x, int xOff, float[] y, int yOff,
                         float[] dy, int dyOff, int B, Scratch s, float[] dx, int dxOff) {
        backwardLayers(p, grad, accumulate, x, xOff, -1, y, yOff, dy, dyOff, B, s, dx, dxOff);
    }

    /**
     * Backward of {@link #forwardTransposedInput}: as {@link #backward}, with the input and its gradient
     * {@code dxT} (written only when non-null) both stored transposed, {@code [in × ldx]}.
     */
    public void backwardTransposedInput(float[] p, float[] grad, boolean accumulate, float[] xT, int xOff, int ldx,
                                        float[] y, int yOff, float[] dy, int dyOff, int B, Scratch s, float[] dxT, int dxOff) {
        if (ldx < B) throw new IllegalArgumentException("a transposed input of " + B + " examples needs a row stride ≥ " + B + ", got " + ldx);
        backwardLayers(p, grad, accumulate, xT, xOff, ldx, y, yOff, dy, dyOff, B, s, dxT, dxOff);
    }

    private void backwardLayers(float[] p, float[] grad, boolean accumulate, float[] x, int xOff, int ldx, float[] y, int yOff,
                          float[] dy, int dyOff, int B, Scratch s, float[] dx, int dxOff) {
        checkBatch(B, s);
        float[] g = dy;
        int gOff = dyOff;
        for (int l = layers.length - 1; l >= 0; l--) {
            Linear L = layers[l];
            boolean last = l == layers.length - 1;
            if (!last) ensure(l, p, x, xOff, ldx, B, s);
            if (activated(l)) act.backward(g, gOff, g, gOff, last ? y : s.h(l), last ? yOff : 0, B * L.out);
            if (l > 0) ensure(l - 1, p, x, xOff, ldx, B, s);
            float[] in = l == 0 ? x : s.h(l - 1);
            int inOff = l == 0 ? xOff : 0;
            float[] gNext = l == 0 ? dx : (g == s.g0 ? s.g1 : s.g0);
            int gNextOff = l == 0 ? dxOff : 0;
            if (l == 0 && ldx >= 0) L.backwardTransposedInput(gNext, gNextOff, grad, accumulate, g, gOff, in, inOff, ldx, p, B);
            else L.backward(gNext, gNextOff, grad, accumulate, g, gOff, in, inOff, p, B);
            g = gNext;
            gOff = gNextOff;
        }
    }

    private static void checkBatch(int B, Scratch s) {
        if (B < 0 || B > s.maxBatch) throw new IllegalArgumentException("batch of " + B + " examples does not fit a scratch made for " + s.maxBatch);
    }
}
