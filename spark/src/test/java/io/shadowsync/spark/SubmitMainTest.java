package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.DataSchema;
import io.shadowsync.net.run.JobOptions;
import io.shadowsync.net.run.JobTerms;
import io.shadowsync.sync.GossipSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spark-submit's entry point: reading Criteo TSV as core does, and refusing bad job files before any work. */
class SubmitMainTest {
    @Test
    void criteoRowsReadBySparkAreTheRowsCoreReads() {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        ShadowSyncClassifier est = new ShadowSyncClassifier();
        List<Row> spark = SubmitMain.read(LocalSpark.session(), "criteo", ctr.dir().resolve("eval.tsv").toString(), est).collectAsList();
        List<Row> core = ctr.evalDf().collectAsList();
        assertEquals(core.size(), spark.size());
        // in any order: the same label, 13 log1p counts (float bits) and 26 ids in every row
        assertEquals(core.stream().map(Row::toString).sorted().toList(), spark.stream().map(Row::toString).sorted().toList());
    }

    @Test
    void aJobFileKeyASparkJobDoesNotTakeIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
        Path job = tmp.resolve("job.yaml");
        Files.writeString(job, "model: dlrm\ntrainers: 2\nlisten: 127.0.0.1:0\n");
        SubmitMain.UsageError e = assertThrows(SubmitMain.UsageError.class,
                () -> SubmitMain.run(new String[] {job.toString(), "--input", "x", "--format", "criteo"}));
        assertTrue(e.getMessage().contains("'listen'") && e.getMessage().contains(job.toString()), e.getMessage());
        assertThrows(SubmitMain.UsageError.class, () -> SubmitMain.run(new String[] {job.toString(), "--inptu", "x"}));
    }

    static final DataSchema CTR = new DataSchema(13, 26, false, 0, 2);

    static TrainingJob job(ShadowSyncEstimator<?> est) {
        return est.settings().job(new TrainingSettings.SchemaOnly(CTR));
    }

    static String digest(ShadowSyncEstimator<?> est) {
        return JobTerms.digest(job(est), JobOptions.defaults());
    }

    /**
     * The job-file keys compress and gossip-schedule (and the setters they call) reach the job every trainer task
     * builds, and so the digest the trainer processes compare; a bad value is refused on the driver naming the
     * setting. Caught: a setter that is stored but not passed to the settings (the codec stays float32, the schedule
     * the default, the digest unchanged), a job-file key that is missing (refused as unknown).
     */
    @Test
    void compressAndGossipScheduleReachTheTrainersJob(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("job.yaml");
        Files.writeString(file, "sync: s-gossip\ntrainers: 4\ngossip-schedule: ring\ncompress: topk:0.01\n");
        ShadowSyncEstimator<?> est = SubmitMain.estimator(file, SubmitMain.readJob(file), Set.of(), new ArrayList<>());
        TrainingJob job = job(est);
        assertEquals("topk:0.01", job.config().codec().name());
        assertEquals(GossipSchedule.RING, job.config().sync().gossipSchedule());
        String d = digest(est);
        ShadowSyncClassifier plain = new ShadowSyncClassifier().setSync("s-gossip").setNumTrainers(4);
        assertEquals("float32", job(plain).config().codec().name());
        assertEquals(GossipSchedule.DEFAULT, job(plain).config().sync().gossipSchedule());
        assertNotEquals(digest(plain), d);
        assertNotEquals(digest(plain.setGossipSchedule("ring")), d, "the codec is part of the digest");
        assertEquals(d, digest(plain.setCompress("topk:0.01")));
        assertNotEquals(digest(plain.setGossipSchedule("hypercube")), d, "the schedule is part of the digest");
        ShadowSyncClassifier seeded = new ShadowSyncClassifier().setSync("s-gossip").setNumTrainers(4);
        assertNotEquals(digest(seeded.setSeed(7)), digest(new ShadowSyncClassifier().setSync("s-gossip").setNumTrainers(4).setSeed(8)),
                "the seed, which the random schedule's pairings are drawn from, is part of the digest");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ShadowSyncClassifier().setCompress("zip").settings().check(CTR));
        assertTrue(e.getMessage().contains("compress") && e.getMessage().contains("'zip'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ShadowSyncClassifier().setGossipSchedule("star").settings().check(CTR));
        assertTrue(e.getMessage().contains("gossipSchedule") && e.getMessage().contains("'star'"), e.getMessage());
    }
}
