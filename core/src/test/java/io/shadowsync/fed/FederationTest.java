package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.optim.OptimizerSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** FedAvg rounds: degenerate cases equal local training, weighting, FedProx, the server optimizer, dropouts. */
class FederationTest {
    static final MlpSpec SPEC = new MlpSpec(Blobs.DIMS, new int[] {16}, 3, "relu", "multiclass");
    static InMemorySource train;
    static InMemorySource eval;

    @BeforeAll
    static void data() throws Exception {
        train = Blobs.make(1200, 3, 1);
        eval = Blobs.make(600, 3, 2);
    }

    static FederatedJob.Builder job() {
        return FederatedJob.builder().data(train).eval(eval).model(SPEC).learningRate(0.05).batchSize(32).seed(99).parallel(2);
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /**
     * One client, everything sampled, server SGD at rate 1: R rounds of E epochs are R·E epochs of local training, the
     * engine's own trainer on the same data from the same seeded start. Catches an update sent with the wrong sign, a
     * server step that does not move by the whole change, or a client that does not start from the global model.
     */
    @Test
    void oneClientEqualsLocalTraining() throws Exception {
        float[] local = TrainingJob.builder().data(train).model(SPEC).learningRate(0.05).batchSize(32).epochs(3).seed(99)
                .build().run().model().model().dense().data();
        FederatedResult once = job().clients(1).rounds(1).localEpochs(3).build().run(null);
        FederatedResult thrice = job().clients(1).rounds(3).localEpochs(1).build().run(null);
        float[] w1 = once.model().dense().data(), w3 = thrice.model().dense().data();
        assertTrue(maxAbsDiff(local, w1) < 1e-5, "1 round × 3 epochs vs 3 local epochs: " + maxAbsDiff(local, w1));
        assertTrue(maxAbsDiff(local, w3) < 1e-4, "3 rounds × 1 epoch vs 3 local epochs: " + maxAbsDiff(local, w3));
        assertTrue(maxAbsDiff(local, initial()) > 0.01, "training moved the model");
    }

    static float[] initial() {
        var m = SPEC.build();
        m.initDense(99);
        return m.dense().data();
    }

    /** FedAvg weighs by examples: an unweighted mean gives 2.5 here, not 3.25. */
    @Test
    void fedAvgWeighsByExamples() {
        float[] out = new float[2];
        Aggregation.FEDAVG.combine(new float[][] {{1, -2}, {4, 2}}, new long[] {1, 3}, out);
        assertEquals(3.25f, out[0], 1e-6);
        assertEquals(1.0f, out[1], 1e-6);
    }

    /**
     * Through whole rounds: with quantity-skewed clients (sizes far apart) the global change is the example-weighted
     * mean of the clients' changes; secure aggregation (which sends n_i·Δ_i and n_i) must give the same within its
     * fixed-point resolution. Catches a secure path that averages unweighted or decodes at the wrong scale.
     */
    @Test
    void secureAggregationGivesTheWeightedMean() throws Exception {
        FederatedResult plain = job().clients(5).rounds(2).split(ClientSplit.parse("quantity:0.5")).build().run(null);
        FederatedResult secure = job().clients(5).rounds(2).split(ClientSplit.parse("quantity:0.5")).secureAggregation(true, 0).build().run(null);
        float d = maxAbsDiff(plain.model().dense().data(), secure.model().dense().data());
        assertTrue(d < 1e-4, "secure vs plain FedAvg: " + d);
        assertTrue(secure.rounds().get(0).uploadBytes() > plain.rounds().get(0).uploadBytes(), "masked uploads are 64-bit, with keys and shares");
    }

    /**
     * FedProx: the proximal term pulls each step toward the global model, so the larger μ, the nearer a client ends to
     * it (SGD at rate 0.05 stays stable up to μ = 40, where each step snaps back to the global model). Catches a term of the wrong sign (it would push away) or one
     * never applied.
     */
    @Test
    void fedProxKeepsClientsNearTheGlobalModel() throws Exception {
        float[] start = initial();
        TrainerConfig tc = new TrainerConfig(1, 32, 0, 3, DataSplit.ROUND_ROBIN, 1, 4, 100_000, false);
        OptimizerSpec sgd = OptimizerSpec.of("sgd", 0.05);
        double free = norm(LocalTraining.train(0, SPEC, start, train, sgd, 0, tc).delta());
        double one = norm(LocalTraining.train(0, SPEC, start, train, sgd, 1, tc).delta());
        double ten = norm(LocalTraining.train(0, SPEC, start, train, sgd, 10, tc).delta());
        double large = norm(LocalTraining.train(0, SPEC, start, train, sgd, 30, tc).delta());
        assertTrue(free > one && one > ten && ten > large, "‖Δ‖ for μ = 0, 1, 10, 30: " + free + ", " + one + ", " + ten + ", " + large);
        // the floor is one step's reach, lr·‖g‖, whatever μ: a quarter of the free walk here
        assertTrue(large < 0.3 * free, "‖Δ‖ with μ = 30: " + large + ", without: " + free);
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }

    /** Federated training learns: FedAvg and FedAdam over 10 clients reach the blobs' accuracy. */
    @Test
    void fedAvgAndFedAdamLearn() throws Exception {
        FederatedResult avg = job().clients(10).fraction(0.5).rounds(8).build().run(null);
        FederatedResult adam = job().clients(10).fraction(0.5).rounds(8).serverOptimizer(ServerOptimizer.Kind.ADAM, 0.02).build().run(null);
        assertTrue(avg.eval().accuracy() > 0.9, "FedAvg accuracy " + avg.eval().accuracy());
        assertTrue(adam.eval().accuracy() > 0.9, "FedAdam accuracy " + adam.eval().accuracy());
        for (RoundRecord r : avg.rounds()) assertEquals(5, r.sampled());
    }

    /**
     * Dropout mid-round: rounds close with the clients that reported and the model still learns; when the minimum
     * cannot be met every round is skipped and the global model stays at its start. Catches a server that waits for
     * a dropped client forever, averages in its half-trained change, or applies a round below the minimum.
     */
    @Test
    void dropoutIsTolerated() throws Exception {
        FederatedResult r = job().clients(10).rounds(8).dropout(0.3).minClients(3).build().run(null);
        int dropped = 0;
        for (RoundRecord rr : r.rounds()) {
            dropped += rr.sampled() - rr.reported();
            assertEquals(rr.reported() >= 3, rr.applied());
        }
        assertTrue(dropped > 0, "some clients dropped out");
        assertTrue(r.eval().accuracy() > 0.9, "accuracy with dropouts " + r.eval().accuracy());
        FederatedResult none = job().clients(4).rounds(3).dropout(0.5).minClients(4).seed(5).build().run(null);
        int applied = none.appliedRounds();
        var m = SPEC.build();
        m.initDense(5);
        float[] start = m.dense().data();
        if (applied == 0) assertEquals(0f, maxAbsDiff(start, none.model().dense().data()));
        assertTrue(applied < 3, "with 4 clients at 50 % dropout and 4 needed, not every round closes");
    }

    /** Secure aggregation with dropouts: the survivors' masks are recovered and training goes on. */
    @Test
    void secureAggregationSurvivesDropouts() throws Exception {
        FederatedResult r = job().clients(6).rounds(6).dropout(0.25).secureAggregation(true, 3).build().run(null);
        int dropped = 0;
        for (RoundRecord rr : r.rounds()) dropped += rr.sampled() - rr.reported();
        assertTrue(dropped > 0, "some clients dropped out");
        assertTrue(r.eval().accuracy() > 0.9, "accuracy " + r.eval().accuracy());
    }

    /**
     * DP-FedAvg: with every client sampled (q = 1) each clipped update is at most C, so their mean moves the model by at
     * most C a round, plus the noise (here tiny); the run reports the accountant's ε for q, z and the applied rounds.
     * Catches clipping that is skipped or applied after the sum, and an ε over the wrong number of rounds.
     */
    @Test
    void privacyClipsUpdatesAndReportsEpsilon() throws Exception {
        double clip = 0.01, z = 1e-3;
        FederatedResult r = job().clients(5).rounds(3).privacy(clip, z, 1e-5).build().run(null);
        float[] start = initial(), end = r.model().dense().data();
        float[] moved = new float[start.length];
        for (int i = 0; i < moved.length; i++) moved[i] = end[i] - start[i];
        assertTrue(norm(moved) <= 3 * clip * 1.01, "moved " + norm(moved) + " in 3 rounds with updates clipped to " + clip);
        assertTrue(norm(moved) > clip, "the clipped updates still move the model");
        assertEquals(new RdpAccountant(1, z, RdpAccountant.Conversion.CLASSIC).epsilon(3, 1e-5), r.dpEpsilon(), 1e-9);
        assertEquals(3, r.appliedRounds());
        // every DP round closes, even when nearly every client dropped out: no round's fate depends on who took part
        FederatedResult dropped = job().clients(4).rounds(4).privacy(clip, z, 1e-5).dropout(0.9).build().run(null);
        assertEquals(4, dropped.appliedRounds());
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> job().fraction(0).build());
        assertThrows(IllegalArgumentException.class, () -> job().aggregation(Aggregation.parse("median")).secureAggregation(true, 0).build());
        assertThrows(IllegalArgumentException.class, () -> job().privacy(0, 1, 1e-5).build());
        assertThrows(IllegalArgumentException.class, () -> job().dropout(1).build());
        assertThrows(IllegalArgumentException.class, () -> job().clients(5).secureAggregation(true, 6).build());
        assertThrows(IllegalArgumentException.class, () -> job().clients(4).fraction(0.25).secureAggregation(true, 0).build());
        assertThrows(IllegalArgumentException.class, () -> job().privacy(1, 1, 1e-5).minClients(2).build());
        assertThrows(IllegalArgumentException.class, () -> Aggregation.parse("trimmed:0.5"));
        assertThrows(IllegalArgumentException.class, () -> ServerOptimizer.kind("yogi"));
    }
}
