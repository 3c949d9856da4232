package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.model.MlpSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Coordinate-wise median and trimmed mean against 20 % poisoned clients. */
class RobustAggregationTest {
    static final MlpSpec SPEC = new MlpSpec(Blobs.DIMS, new int[] {16}, 3, "relu", "multiclass");
    static InMemorySource train;
    static InMemorySource eval;

    @BeforeAll
    static void data() throws Exception {
        train = Blobs.make(1500, 3, 3);
        eval = Blobs.make(600, 3, 4);
    }

    static double accuracy(String aggregate, double factor) throws Exception {
        FederatedJob job = FederatedJob.builder().data(train).eval(eval).model(SPEC).learningRate(0.05).batchSize(32).seed(7)
                .clients(10).rounds(8).aggregation(Aggregation.parse(aggregate)).poison(0.2, factor).parallel(2).build();
        return job.run(null).eval().accuracy();
    }

    /**
     * 2 of 10 clients send their change scaled by −10: the mean moves the model by (8 − 20)/10 of an honest change,
     * i.e. backwards, and FedAvg breaks; the median and the 20 %-trimmed mean see only honest values at every
     * coordinate and keep the accuracy. Catches a robust rule that averages anyway, or trims too little.
     */
    @Test
    void robustRulesHoldWhereFedAvgBreaks() throws Exception {
        double avg = accuracy("fedavg", -10), median = accuracy("median", -10), trimmed = accuracy("trimmed:0.2", -10);
        assertTrue(avg < 0.6, "FedAvg under a ×−10 attack should break, got " + avg);
        assertTrue(median > 0.9, "median under attack: " + median);
        assertTrue(trimmed > 0.9, "trimmed mean under attack: " + trimmed);
    }

    /** Sign-flipped updates: the robust rules still train to the honest accuracy. */
    @Test
    void signFlipsAreOutvoted() throws Exception {
        assertTrue(accuracy("median", -1) > 0.9);
        assertTrue(accuracy("trimmed:0.2", -1) > 0.9);
    }

    /** The rules on known columns: median of odd and even counts, β-trimming of each end. */
    @Test
    void rulesOnKnownValues() {
        float[] out = new float[1];
        new Aggregation(Aggregation.Rule.MEDIAN, 0, 0).combine(new float[][] {{5}, {-100}, {1}, {2}, {3}}, new long[5], out);
        assertEquals(2f, out[0]);
        new Aggregation(Aggregation.Rule.MEDIAN, 0, 0).combine(new float[][] {{4}, {1}, {100}, {2}}, new long[4], out);
        assertEquals(3f, out[0]);
        Aggregation.parse("trimmed:0.2").combine(new float[][] {{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {-1000}, {1000}}, new long[10], out);
        assertEquals(4.5f, out[0], 1e-6); // drops −1000, 1 and 8, 1000: mean of 2..7
    }
}
