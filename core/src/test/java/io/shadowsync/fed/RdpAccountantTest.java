package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The RDP accountant against the numbers of TensorFlow Privacy's accountant. The reference values were computed with
 * an independent transcription of TensorFlow Privacy's {@code rdp_accountant.py} ({@code compute_rdp} with
 * {@code _compute_log_a_int}/{@code _compute_log_a_frac}, SciPy's {@code log_ndtr} for log erfc, and
 * {@code get_privacy_spent}) in double precision, over the standard orders 1.1..10.9, 12..63:
 * <ul>
 *   <li>the MNIST DP-SGD tutorial setting, q = 256/60000, σ = 1.1, 60 epochs = 14062 steps, δ = 10⁻⁵: ε = 3.008 with
 *       the classic conversion (the 3.01 that TensorFlow Privacy's {@code compute_dp_sgd_privacy} prints for it), 2.597
 *       with the improved conversion of Balle et al. 2020 (Opacus' {@code get_privacy_spent}). The often quoted 2.92 is
 *       neither: the classic conversion gives it at about 13,200 steps (≈ 56 epochs);</li>
 *   <li>q = 256/60000, σ = 0.7, 45 epochs = 10546 steps: classic ε = 7.100 (the tutorial's table gives 7.10);</li>
 *   <li>q = 0.01, σ = 1.0, 1000 steps: classic ε = 2.538, improved 2.101.</li>
 * </ul>
 * A broken integer series, fractional series, order list or conversion moves these by far more than 1 %.
 */
class RdpAccountantTest {
    static void within1pct(double want, double got) {
        assertEquals(want, got, 0.01 * want, "ε " + got + " vs the reference " + want);
    }

    @Test
    void mnistDpSgdSetting() {
        double q = 256.0 / 60000;
        within1pct(3.00827, new RdpAccountant(q, 1.1, RdpAccountant.Conversion.CLASSIC).epsilon(14062, 1e-5));
        within1pct(2.59656, new RdpAccountant(q, 1.1, RdpAccountant.Conversion.IMPROVED).epsilon(14062, 1e-5));
        within1pct(7.10027, new RdpAccountant(q, 0.7, RdpAccountant.Conversion.CLASSIC).epsilon(10546, 1e-5));
        within1pct(6.31810, new RdpAccountant(q, 0.7, RdpAccountant.Conversion.IMPROVED).epsilon(10546, 1e-5));
    }

    @Test
    void federatedScaleSetting() {
        within1pct(2.53798, new RdpAccountant(0.01, 1.0, RdpAccountant.Conversion.CLASSIC).epsilon(1000, 1e-5));
        within1pct(2.10137, new RdpAccountant(0.01, 1.0, RdpAccountant.Conversion.IMPROVED).epsilon(1000, 1e-5));
        within1pct(8.79378, new RdpAccountant(0.1, 1.0, RdpAccountant.Conversion.CLASSIC).epsilon(100, 1e-5));
    }

    /**
     * The fractional series at an integer order must agree with the exact integer sum (it is the same A_α): catches a
     * sign error in the alternating binomial coefficients or a wrong erfc.
     */
    @Test
    void fractionalSeriesMatchesIntegerSum() {
        for (int a : new int[] {2, 3, 5, 8, 20}) {
            double exact = RdpAccountant.logAInt(0.01, 1.1, a), series = RdpAccountant.logAFrac(0.01, 1.1, a);
            assertEquals(exact, series, 1e-6 * Math.max(1, Math.abs(exact)), "order " + a);
        }
    }

    /**
     * One round's RDP at single orders, against the same reference transcription: at fractional orders where the
     * series' negative binomial coefficients matter (dropping their sign moves the first by 10 %, the second by 3 %).
     */
    @Test
    void singleOrdersMatchTheReference() {
        assertEquals(0.2351580344826510, RdpAccountant.rdp(0.5, 1.0, 1.5), 1e-5 * 0.235);
        assertEquals(0.1459270896806906, RdpAccountant.rdp(0.1, 0.5, 1.5), 1e-5 * 0.146);
        assertEquals(5.840703355202467e-4, RdpAccountant.rdp(0.01, 1.1, 8), 1e-5 * 5.84e-4);
        assertEquals(6.298401019057897e-4, RdpAccountant.rdp(0.01, 1.1, 8.5), 1e-5 * 6.30e-4);
    }

    /** Without sampling the Gaussian mechanism's RDP is α/(2σ²) exactly, and ε grows with rounds, shrinks with noise. */
    @Test
    void knownFormsAndMonotonicity() {
        assertEquals(3.0 / (2 * 4), RdpAccountant.rdp(1, 2, 3), 1e-12);
        RdpAccountant a = new RdpAccountant(0.1, 1.0, RdpAccountant.Conversion.CLASSIC);
        assertTrue(a.epsilon(10, 1e-5) < a.epsilon(100, 1e-5));
        assertTrue(new RdpAccountant(0.1, 2.0, RdpAccountant.Conversion.CLASSIC).epsilon(100, 1e-5) < a.epsilon(100, 1e-5));
        assertEquals(0, a.epsilon(0, 1e-5));
        assertThrows(IllegalArgumentException.class, () -> a.epsilon(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new RdpAccountant(0, 1, RdpAccountant.Conversion.CLASSIC));
    }

    /** log erfc against values of erfc: erfc(0) = 1, erfc(1) = 0.157299207, erfc(−1) = 1.842700793, erfc(10) ≈ 2.088e−45. */
    @Test
    void logErfc() {
        assertEquals(0, RdpAccountant.logErfc(0), 1e-7);
        assertEquals(Math.log(0.157299207050285), RdpAccountant.logErfc(1), 1e-6);
        assertEquals(Math.log(1.842700792949715), RdpAccountant.logErfc(-1), 1e-6);
        assertEquals(Math.log(2.088487583762545e-45), RdpAccountant.logErfc(10), 1e-5);
    }
}
