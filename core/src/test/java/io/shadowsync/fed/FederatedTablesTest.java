package io.shadowsync.fed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.FederatedJob;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.api.TrainingResult;
import io.shadowsync.comm.Codec;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.ModelSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federated rounds of models with embedding tables: each row is combined over the clients that touched it, one client
 * equals local training, LR learns, secure aggregation of a table gives the plain rounds' result, and what cannot
 * work is refused.
 */
class FederatedTablesTest {
    static final LrSpec LR = new LrSpec(12, 13, 26, false);
    static final DlrmSpec DLRM = new DlrmSpec(13, 26, 200, 4, new int[] {8}, new int[] {8});

    @TempDir
    static Path dir;
    static SyntheticCtr.Summary gen;
    static InMemorySource train;
    static InMemorySource eval;

    @BeforeAll
    static void data() throws Exception {
        gen = new SyntheticCtr(new SyntheticCtr.Config(6_000, 2_000, 7, 200)).generate(dir.resolve("ctr"));
        train = InMemorySource.load(new CriteoTsvSource(dir.resolve("ctr/train.tsv"), false));
        eval = InMemorySource.load(new CriteoTsvSource(dir.resolve("ctr/eval.tsv"), false));
    }

    static FederatedJob.Builder job(ModelSpec spec) {
        return FederatedJob.builder().data(train).eval(eval).model(spec).learningRate(0.05).batchSize(64).seed(11).parallel(2);
    }

    /**
     * Three clients of 1, 3 and 4 examples: row 0 only A touched, row 2 A and B, row 5 B and C. Per row, the mean
     * weighted by the examples of the clients that touched it. An unweighted mean gives row 2 = 2 (not 2.5); averaging
     * over all three clients gives row 0 = 1/8·8 = 1 (not 8) and row 5 = 3.375 (not 54/7); a rule that drops a row
     * touched by one client loses row 0.
     */
    @Test
    void rowsAverageOverTheClientsThatTouchedThem() {
        RowDelta a = new RowDelta(new int[] {0, 2}, new float[] {8, -8, 1, 1});
        RowDelta b = new RowDelta(new int[] {2, 5}, new float[] {3, 3, 2, 0});
        RowDelta c = new RowDelta(new int[] {5}, new float[] {9, 7});
        RowDelta got = Aggregation.FEDAVG.combineRows(new RowDelta[] {a, b, c}, new long[] {1, 3, 4}, 2);
        assertArrayEquals(new int[] {0, 2, 5}, got.ids());
        float[] want = {8, -8, (1 + 3 * 3) / 4f, (1 + 3 * 3) / 4f, (3 * 2 + 4 * 9) / 7f, (4 * 7) / 7f};
        assertArrayEquals(want, got.values(), 1e-6f);
        // the median over the touching clients: row 0 its one value, row 2 the mean of two, row 5 likewise
        RowDelta med = Aggregation.parse("median").combineRows(new RowDelta[] {a, b, c}, new long[] {1, 3, 4}, 2);
        assertArrayEquals(new float[] {8, -8, 2, 2, 5.5f, 3.5f}, med.values(), 1e-6f);
    }

    /** The server applies the combined rows only: FedAdam's step leaves untouched rows (and their moments) alone. */
    @Test
    void serverStepsOnlyTheChangedRows() {
        for (ServerOptimizer.Kind kind : ServerOptimizer.Kind.values()) {
            float[] table = {1, 1, 1, 1, 1, 1};
            new ServerOptimizer(kind, 0.5).applyRows(table, 2, new RowDelta(new int[] {1}, new float[] {2, -2}));
            assertEquals(1f, table[0]);
            assertEquals(1f, table[5]);
            assertTrue(table[2] > 1 && table[3] < 1, kind + ": " + java.util.Arrays.toString(table));
        }
    }

    /**
     * FedProx reaches the rows: the larger μ, the smaller a client's change of the table it trains (as for the dense
     * parameters). Catches a proximal term left off the rows, or one of the wrong sign (it would push rows away).
     */
    @Test
    void fedProxHoldsRowsNearTheGlobalTable() throws Exception {
        var m = LR.build();
        m.initDense(11);
        float[] dense = m.dense().data();
        float[][] tables = {Federation.tables(LR, m, job(LR).clients(1).build().config()).table(0).clone()};
        var tc = new io.shadowsync.engine.TrainerConfig(1, 64, 0, 3, io.shadowsync.engine.feed.DataSplit.ROUND_ROBIN, 1, 4, 100_000, false);
        var sgd = io.shadowsync.optim.OptimizerSpec.of("sgd", 0.2);
        double prev = Double.MAX_VALUE;
        for (double mu : new double[] {0, 1, 4}) {
            RowDelta r = LocalTraining.train(0, LR, dense, tables, train, sgd, mu, tc).rows()[0];
            double norm = FederationTest.norm(r.values());
            assertTrue(norm < prev * (mu == 0 ? 1 : 0.9), "‖Δrows‖ with μ = " + mu + ": " + norm + ", before: " + prev);
            prev = norm;
        }
    }

    /** DP clips the whole change: a dense part of norm 3 and rows of norm 4 are one update of norm 5. */
    @Test
    void privacyClipsDenseAndRowsTogether() {
        float[] dense = {3};
        RowDelta[] rows = {new RowDelta(new int[] {7}, new float[] {4})};
        double norm = new GaussianPrivacy(1, 1, 0).clipInPlace(dense, rows);
        assertEquals(5, norm, 1e-9);
        assertEquals(0.6f, dense[0], 1e-6f);
        assertEquals(0.8f, rows[0].values()[0], 1e-6f);
    }

    /**
     * One client, everything sampled, server SGD at rate 1: R rounds of E epochs are R·E epochs of {@code train} with
     * one trainer on the same data order, tables included. Catches a client that does not start from the global
     * tables, a row change sent with the wrong sign or against the wrong start, rows lost on the way (untouched rows
     * must also stay as they were), or global tables initialized otherwise than {@code train}'s.
     */
    @Test
    void oneClientEqualsLocalTraining() throws Exception {
        for (ModelSpec spec : new ModelSpec[] {LR, DLRM}) {
            TrainingResult local = TrainingJob.builder().data(train).model(spec).learningRate(0.05).batchSize(64).epochs(2).seed(11)
                    .build().run();
            FederatedResult once = job(spec).clients(1).rounds(1).localEpochs(2).build().run(null);
            FederatedResult twice = job(spec).clients(1).rounds(2).localEpochs(1).build().run(null);
            var m = spec.build();
            m.initDense(11);
            LocalEmbeddingStore start = Federation.tables(spec, m, job(spec).clients(1).build().config());
            for (FederatedResult r : new FederatedResult[] {once, twice}) {
                float dense = FederationTest.maxAbsDiff(local.model().model().dense().data(), r.model().dense().data());
                assertTrue(dense < 1e-4, spec.kind() + " dense: " + dense);
                for (int t = 0; t < r.tables().numTables(); t++) {
                    float diff = FederationTest.maxAbsDiff(local.model().tables().localTable(t), r.tables().table(t));
                    assertTrue(diff < 1e-4, spec.kind() + " table " + t + ": " + diff);
                }
            }
            assertTrue(FederationTest.maxAbsDiff(local.model().tables().localTable(0), start.table(0)) > 1e-3, spec.kind() + ": training moved table 0");
        }
    }

    /**
     * FedAvg of LR over 8 clients, half of them a round, learns the generated clicks: eval logloss well under the
     * constant predictor's (0.661; central training at the same rate for 3 epochs reaches 0.599, 12 rounds here 0.610).
     * Catches rows that never reach the global model (it would stay near the constant) or a server step that diverges.
     */
    @Test
    void lrLearnsFederated() throws Exception {
        FederatedResult r = job(LR).learningRate(0.2).clients(8).fraction(0.5).rounds(12).build().run(null);
        double constant = gen.evalConstantLogloss();
        assertTrue(r.eval().logloss() < constant - 0.03, "eval logloss " + r.eval().logloss() + " vs constant " + constant);
        assertTrue(r.eval().auc() > 0.67, "auc " + r.eval().auc());
    }

    /**
     * Secure aggregation masks the tables whole with per-row weights; unmasked, the round must give what the plain
     * rounds give (each row weighted over the clients that touched it), within the fixed-point resolution. Catches
     * rows divided by all clients' examples, a table laid out at the wrong offset, or rows the server never applies.
     */
    @Test
    void secureAggregationOfTablesGivesThePlainResult() throws Exception {
        for (ModelSpec spec : new ModelSpec[] {LR, DLRM}) {
            FederatedResult plain = job(spec).clients(4).rounds(2).split(ClientSplit.parse("quantity:0.5")).build().run(null);
            FederatedResult secure = job(spec).clients(4).rounds(2).split(ClientSplit.parse("quantity:0.5")).secureAggregation(true, 0).build().run(null);
            assertTrue(FederationTest.maxAbsDiff(plain.model().dense().data(), secure.model().dense().data()) < 1e-5, spec.kind() + " dense");
            for (int t = 0; t < plain.tables().numTables(); t++) {
                float d = FederationTest.maxAbsDiff(plain.tables().table(t), secure.tables().table(t));
                assertTrue(d < 1e-5, spec.kind() + " table " + t + ": secure vs plain " + d);
            }
        }
    }

    /**
     * DP noises every row of every table, touched or not: after one round no value of the table is where it started
     * (a table of 4,096 rows, most of which no example of the round reaches). Catches noise added to the touched rows
     * only, which would tell the server (and anyone who sees the model) which rows the round's clients touched.
     */
    @Test
    void privacyNoisesEveryRow() throws Exception {
        FederatedResult r = job(LR).clients(4).fraction(0.5).rounds(1).privacy(1, 0.5, 1e-5).build().run(null);
        var m = LR.build();
        m.initDense(11);
        float[] start = Federation.tables(LR, m, job(LR).clients(1).build().config()).table(0), end = r.tables().table(0);
        int still = 0;
        for (int i = 0; i < start.length; i++) if (start[i] == end[i]) still++;
        assertEquals(0, still, "table values the DP round left where they were");
        assertTrue(Double.isFinite(r.dpEpsilon()), "ε " + r.dpEpsilon());
    }

    /** Refused with the setting named: tables too large to mask whole, and top-k uploads (whose residual cannot follow rows). */
    @Test
    void refusesWhatTablesCannotDo() {
        var big = assertThrows(IllegalArgumentException.class,
                () -> job(new LrSpec(20, 13, 26, false)).clients(4).secureAggregation(true, 0).build());
        assertTrue(big.getMessage().contains("--secure-agg") && big.getMessage().contains("2,097,152"), big.getMessage());
        var topk = assertThrows(IllegalArgumentException.class, () -> job(LR).clients(4).uploadCodec(Codec.named("topk:0.1")).build());
        assertTrue(topk.getMessage().contains("--compress topk"), topk.getMessage());
        job(LR).clients(4).uploadCodec(Codec.named("fp16")).build(); // quantizing codecs carry rows
    }

    /** fp16 uploads of rows: the round still learns and stays near the float32 run. */
    @Test
    void rowsTravelThroughTheCodec() throws Exception {
        FederatedResult plain = job(LR).clients(4).rounds(2).build().run(null);
        FederatedResult half = job(LR).clients(4).rounds(2).uploadCodec(Codec.named("fp16")).build().run(null);
        float d = FederationTest.maxAbsDiff(plain.tables().table(0), half.tables().table(0));
        assertTrue(d > 0 && d < 1e-2, "fp16 vs float32 rows: " + d);
        assertTrue(half.rounds().get(0).uploadBytes() < plain.rounds().get(0).uploadBytes(), "fp16 rows take fewer bytes");
    }
}
