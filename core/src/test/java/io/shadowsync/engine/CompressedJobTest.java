package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs under every codec ({@code --compress}): every registered algorithm with rounds (and sync-sgd, async-ps) trains
 * under each codec to a finite model on every example, the collective ones ending on the same bits on every trainer
 * (a ring owner that kept its unrounded fp16 sum, or ranks that summed top-k messages in different orders, fail it);
 * and fp16, bf16 and int8 land within 0.01 eval logloss of float32 (a tenth of what the model gains over the constant
 * predictor on this task, 0.605 → 0.51).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CompressedJobTest {
    static final List<String> CODECS = List.of("none", "fp16", "bf16", "int8", "int8:stochastic", "topk:0.01");
    static final List<String> REPORT_RAW = List.of("s-ma", "s-bmuf", "s-easgd", "s-gossip", "fr-ma", "fr-bmuf", "fr-easgd", "fr-gossip", "sync-sgd");
    static final DlrmSpec SPEC = new DlrmSpec(13, 26, 100, 8, new int[] {16}, new int[] {16});

    @TempDir
    static Path dir;
    static InMemorySource small, train, eval;

    @BeforeAll
    static void data() throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(24_000, 4_000, 5, 100)).generate(dir);
        train = InMemorySource.load(new CriteoTsvSource(dir.resolve("train.tsv"), false));
        eval = InMemorySource.load(new CriteoTsvSource(dir.resolve("eval.tsv"), false));
        Path s = dir.resolve("small");
        new SyntheticCtr(new SyntheticCtr.Config(3_000, 500, 6, 100)).generate(s);
        small = InMemorySource.load(new CriteoTsvSource(s.resolve("train.tsv"), false));
    }

    record Outcome(JobResult result, Metrics metrics, float[][] replicas) {}

    static Outcome run(InMemorySource data, String algorithm, int trainers, String codec) throws Exception {
        TrainerConfig tc = new TrainerConfig(1, 64, 0, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        // shadow rounds every millisecond, not self-paced: a run this short would otherwise take a round or two, and
        // EASGD's float32 last push would then outweigh the encoded rounds in the compression ratio
        SyncSpec sync = new SyncSpec(algorithm, 5, 1, Double.NaN, 1.0, false, Double.NaN);
        double lr = sync.mode() == SyncSpec.Mode.ASYNC_PS ? 0.3 / Math.sqrt(trainers) : 0.3;
        Job job = new Job(SPEC, 11, OptimizerSpec.of("sgd", lr), new EmbeddingOptimizerSpec("sgd", 0.3), data,
                new JobConfig(trainers, tc, sync, 1, LinkModel.NONE, null, Codec.named(codec)));
        JobResult r = job.run();
        Metrics m = Evaluator.evaluate(job.model(), job.tables(), eval, 1024).metrics();
        float[][] replicas = new float[trainers][];
        for (int i = 0; i < trainers; i++) replicas[i] = job.replica(i).clone();
        return new Outcome(r, m, replicas);
    }

    /**
     * Every codec × every algorithm that synchronizes (the registry's round algorithms, shadow and foreground, and the
     * step rules sync-sgd and async-ps), on a small job of 2 trainers: it trains on every example to a finite eval
     * logloss; the collective ones end on the same bits everywhere; under a lossy codec the algorithms with rounds
     * report a compression ratio above 1.
     */
    @Test
    void everyCodecTrainsWithEveryAlgorithm() throws Exception {
        for (AlgorithmDescriptor d : SyncAlgorithms.all()) {
            if (d.mode() == SyncSpec.Mode.NONE) continue;
            for (String codec : CODECS) {
                String what = d.name() + " --compress " + codec;
                Outcome o = run(small, d.name(), 2, codec);
                assertEquals(3_000, o.result().examples(), what + ": every example");
                // one epoch of 3,000 rows: trained, not converged (0.63 to 0.67 measured; quality is the next test's business)
                assertTrue(Double.isFinite(o.metrics().logloss()) && o.metrics().logloss() < 1, what + ": eval logloss " + o.metrics().logloss());
                if (d.trainerGroup()) {
                    assertArrayEquals(o.replicas()[0], o.replicas()[1], what + ": the trainers end on the same bits");
                }
                double ratio = o.result().compressionRatio()[0];
                if (codec.equals("none")) assertEquals(1.0, ratio, what);
                assertTrue(ratio >= 1, what + ": compression ratio " + ratio);
                // the built-in round algorithms count what float32 would have sent (SyncAlgorithm.rawBytesSent): above 1
                // as soon as one round went encoded (a codec not applied, or raw bytes not counted, gives exactly 1). Not a
                // higher bar: on idle cores this 3,000-row job takes few rounds, and EASGD's float32 last push then weighs
                // in (fp16 measured 1.2 in a fresh-clone run)
                if (REPORT_RAW.contains(d.name()) && !codec.equals("none")) assertTrue(ratio > 1, what + ": compression ratio " + ratio);
            }
        }
    }

    /**
     * The quality cost, foreground model averaging and BMUF at N = 4 (foreground rounds every 5 steps: the same rounds
     * in every run, so the codec is the only difference): fp16, bf16 and int8 within 0.01 eval logloss of float32,
     * top-k at 1% within 0.03 (it delivers most of a change rounds later).
     */
    @Test
    void lossyCodecsLandNearFloat32() throws Exception {
        for (String algorithm : new String[] {"fr-ma", "fr-bmuf"}) {
            double exact = run(train, algorithm, 4, "none").metrics().logloss();
            for (String codec : List.of("fp16", "bf16", "int8", "topk:0.01")) {
                double ll = run(train, algorithm, 4, codec).metrics().logloss();
                double margin = codec.startsWith("topk") ? 0.03 : 0.01;
                assertTrue(ll < exact + margin, algorithm + " --compress " + codec + ": eval logloss " + ll + " vs float32 " + exact
                        + " (margin " + margin + ")");
            }
        }
    }
}
