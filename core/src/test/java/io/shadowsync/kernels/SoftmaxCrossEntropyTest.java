package io.shadowsync.kernels;

import static io.shadowsync.kernels.KernelChecks.ULP1;
import static io.shadowsync.kernels.KernelChecks.assertClose;
import static io.shadowsync.kernels.KernelChecks.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Forward against a double-precision softmax (each probability within 4 float ulps of itself, the loss
 * within 1e-6 relative), backward against its definition, and the stability cases: rows that sum to 1
 * and stay finite at logits of ±1000.
 */
class SoftmaxCrossEntropyTest {
    private final SplittableRandom random = new SplittableRandom(17);

    @Test
    void forwardAndBackwardMatchTheReference() {
        for (int classes : new int[] {1, 2, 7, 10, 17, 100}) {
            for (int batch : new int[] {0, 1, 9}) {
                float[] logits = KernelChecks.randomArray(random, batch * classes);
                for (int i = 0; i < logits.length; i++) logits[i] *= 8f;
                int[] labels = new int[batch];
                for (int b = 0; b < batch; b++) labels[b] = random.nextInt(classes);
                float[] probs = new float[batch * classes];
                double loss = SoftmaxCrossEntropy.forward(probs, logits, labels, batch, classes);

                double expectedLoss = 0;
                for (int b = 0; b < batch; b++) {
                    int o = b * classes;
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
                    for (int c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
                    for (int c = 0; c < classes; c++) {
                        double p = Math.exp(logits[o + c] - max) / sum;
                        assertClose(p, probs[o + c], p, 4 * ULP1, "probs[" + b + "," + c + "] C=" + classes);
                    }
                    expectedLoss += Math.log(sum) - (logits[o + labels[b]] - max);
                }
                assertClose(expectedLoss, (float) loss, Math.abs(expectedLoss) + batch, 1e-6, "loss C=" + classes);

                float scale = batch == 0 ? 1f : 1f / batch;
                float[] dlogits = new float[batch * classes];
                SoftmaxCrossEntropy.backward(dlogits, probs, labels, batch, classes, scale);
                for (int b = 0; b < batch; b++) {
                    double rowSum = 0;
                    for (int c = 0; c < classes; c++) {
                        int i = b * classes + c;
                        double expected = scale * ((double) probs[i] - (c == labels[b] ? 1 : 0));
                        assertClose(expected, dlogits[i], scale, ULP1, "dlogits[" + b + "," + c + "]");
                        rowSum += dlogits[i];
                    }
                    assertClose(0, (float) rowSum, scale, (classes + 4) * ULP1, "a gradient row sums to 0");
                }
                // in place: dlogits aliasing probs gives the same numbers
                SoftmaxCrossEntropy.backward(probs, probs, labels, batch, classes, scale);
                assertSameBits(dlogits, probs, "backward in place");
            }
        }
    }

    @Test
    void rowsSumToOne() {
        int batch = 6, classes = 1000;
        float[] logits = KernelChecks.randomArray(random, batch * classes);
        float[] probs = new float[batch * classes];
        SoftmaxCrossEntropy.forward(probs, logits, new int[batch], batch, classes);
        for (int b = 0; b < batch; b++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += probs[b * classes + c];
            assertClose(1, (float) sum, 1, 4 * ULP1, "row " + b + " sums to 1");
        }
    }

    @Test
    void hugeLogitsStayFinite() {
        float[] logits = {1000f, -1000f, -1000f, 1000f, 1000f, 1000f, -1000f, -1000f};
        int[] labels = {1, 1, 0, 0};
        float[] probs = new float[8];
        double loss = SoftmaxCrossEntropy.forward(probs, logits, labels, 4, 2);
        for (float p : probs) assertTrue(Float.isFinite(p) && p >= 0f && p <= 1f, "probability " + p);
        assertSameBits(new float[] {1f, 0f, 0f, 1f, 0.5f, 0.5f, 0.5f, 0.5f}, probs, "probs");
        // row 0 puts its label at −1000 against +1000 (loss 2000), row 1 at +1000 (loss 0); rows 2, 3: log 2 each
        assertEquals(2000 + 2 * Math.log(2), loss, 1e-9);
        float[] dlogits = new float[8];
        SoftmaxCrossEntropy.backward(dlogits, probs, labels, 4, 2, 0.25f);
        for (float d : dlogits) assertTrue(Float.isFinite(d), "gradient " + d);
    }

    @Test
    void probsMayAliasLogits() {
        float[] logits = {0.5f, -1f, 2f, 3f, 3f, -4f};
        float[] separate = new float[6];
        int[] labels = {2, 0};
        double loss = SoftmaxCrossEntropy.forward(separate, logits, labels, 2, 3);
        double lossInPlace = SoftmaxCrossEntropy.forward(logits, logits, labels, 2, 3);
        assertEquals(loss, lossInPlace, "the label's logit is read before it is overwritten");
        assertSameBits(separate, logits, "probs in place");
    }

    @Test
    void labelsOutsideTheClassesAreRefused() {
        float[] logits = new float[6], probs = new float[6];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCrossEntropy.forward(probs, logits, new int[] {0, 3}, 2, 3));
        assertTrue(e.getMessage().contains("label 3 of row 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCrossEntropy.forward(probs, logits, new int[] {-1, 0}, 2, 3));
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCrossEntropy.backward(probs, probs, new int[] {0, 3}, 2, 3, 1f));
    }
}
