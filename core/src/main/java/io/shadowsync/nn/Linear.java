package io.shadowsync.nn;

import io.shadowsync.kernels.Blas;
import io.shadowsync.kernels.Vec;
import java.util.Arrays;

/**
 * Fully connected layer {@code y = x·Wᵀ + b}, with the weight laid out like PyTorch's {@code nn.Linear}:
 * {@code W [out×in]} row-major, {@code b [out]}. Both tensors are views into the model's one
 * {@link ParameterSet}; this object only remembers their offsets, so it is immutable and shared by all
 * workers. Gradients go to the same offsets of a gradient array with the same layout.
 */
public final class Linear {
    public final String name;
    public final int in;
    public final int out;
    /** Offset of {@code W [out×in]} in the parameter (and gradient) array. */
    public final int wOff;
    /** Offset of {@code b [out]} in the parameter (and gradient) array. */
    public final int bOff;

    /** Registers {@code name.weight [out×in]} and {@code name.bias [out]} in the builder. */
    public Linear(ParameterSet.Builder params, String name, int in, int out) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("linear layer '" + name + "' needs positive sizes, got in=" + in + " out=" + out);
        }
        this.name = name;
        this.in = in;
        this.out = out;
        this.wOff = params.add(name + ".weight", out, in);
        this.bOff = params.add(name + ".bias", out);
    }

    // y[B×out] = x[B×in] · W[out×in]ᵀ + b[out]
    public void forward(float[] y, int yOff, float[] x, int xOff, float[] p, int B) {
        if (B == 0) return;
        for (int r = 0; r < B; r++) System.arraycopy(p, bOff, y, yOff + r * out, out);
        Blas.gemm(false, true, B, out, in, 1f, x, xOff, in, p, wOff, in, 1f, y, yOff, out);
    }

    /**
     * Backward of {@link #forward}: {@code dW = dyᵀ·x} (dW [out×in]), {@code db = Σ_rows dy}, written into
     * {@code grad} at this layer's offsets, added to what is there when {@code accumulate}, else overwriting
     * it (so a model whose every tensor is written this way needs no zeroing pass). {@code dx[B×in] = dy·W}
     * is computed only when {@code dx != null}: the first layer of a network needs no input gradient.
     */
    // dx[B×in] = dy[B×out]·W;  dW[out×in] (+)= dyᵀ·x[B×in];  db[out] (+)= Σ_b dy[b]
    public void backward(float[] dx, int dxOff, float[] grad, boolean accumulate,
                         float[] dy, int dyOff, float[] x, int xOff, float[] p, int B) {
        float beta = accumulate ? 1f : 0f;
        if (B == 0) {
            if (!accumulate) Arrays.fill(grad, wOff, wOff + out * in, 0f);
        } else {
            Blas.gemm(true, false, out, in, B, 1f, dy, dyOff, out, x, xOff, in, beta, grad, wOff, in);
        }
        if (!accumulate) Arrays.fill(grad, bOff, bOff + out, 0f);
        Vec.addColumnSums(B, out, dy, dyOff, grad, bOff);
        if (dx != null && B > 0) Blas.gemm(false, false, B, in, out, 1f, dy, dyOff, out, p, wOff, in, 0f, dx, dxOff, in);
    }

    /**
     * {@link #forward} on an input stored transposed: {@code xT [in × ldx]}, column b holding example b (the
     * layout of a batched interaction's output), read by the gemm as {@code op(A) = xTᵀ} with no copy.
     */
    // y[B×out] = xT[in×B]ᵀ · W[out×in]ᵀ + b[out]
    public void forwardTransposedInput(float[] y, int yOff, float[] xT, int xOff, int ldx, float[] p, int B) {
        if (B == 0) return;
        for (int r = 0; r < B; r++) System.arraycopy(p, bOff, y, yOff + r * out, out);
        Blas.gemm(true, true, B, out, in, 1f, xT, xOff, ldx, p, wOff, in, 1f, y, yOff, out);
    }

    /**
     * {@link #backward} for {@link #forwardTransposedInput}: the same dW and db, and the input gradient, when
     * {@code dxT != null}, transposed like the input: {@code dxT [in × ldx]}.
     */
    // dxT[in×B] = Wᵀ·dyᵀ;  dW[out×in] (+)= dyᵀ·xTᵀ;  db[out] (+)= Σ_b dy[b]
    public void backwardTransposedInput(float[] dxT, int dxOff, float[] grad, boolean accumulate,
                                        float[] dy, int dyOff, float[] xT, int xOff, int ldx, float[] p, int B) {
        float beta = accumulate ? 1f : 0f;
        if (B == 0) {
            if (!accumulate) Arrays.fill(grad, wOff, wOff + out * in, 0f);
        } else {
            Blas.gemm(true, true, out, in, B, 1f, dy, dyOff, out, xT, xOff, ldx, beta, grad, wOff, in);
        }
        if (!accumulate) Arrays.fill(grad, bOff, bOff + out, 0f);
        Vec.addColumnSums(B, out, dy, dyOff, grad, bOff);
        if (dxT != null && B > 0) Blas.gemm(true, true, in, B, out, 1f, p, wOff, in, dy, dyOff, out, 0f, dxT, dxOff, ldx);
    }

    /** Seeded init: W ~ He uniform when a ReLU follows, else Glorot uniform; b = 0. */
    public void init(float[] p, long seed, boolean reluFollows) {
        float bound = reluFollows ? Init.heBound(in) : Init.xavierBound(in, out);
        Init.uniform(p, wOff, out * in, bound, Init.tensorSeed(seed, name + ".weight"));
        Arrays.fill(p, bOff, bOff + out, 0f);
    }
}
