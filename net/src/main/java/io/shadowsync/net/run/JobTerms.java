package io.shadowsync.net.run;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.sync.SyncSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the processes of a job must agree on, independent of where its data comes from: the {@linkplain #digest digest}
 * the rendezvous compares, and the {@linkplain #checkpointSettings settings} a checkpoint records and a resumed run must
 * match. The embedded {@code train} and every process of a multi-process job compute them the same way.
 */
public final class JobTerms {
    private JobTerms() {}

    /**
     * What every process of a multi-process job must agree on — model, optimizers, synchronization, sizes, seed,
     * budget, replicas, elastic trainers, whether there are checkpoints — as a short hash (16 hex digits); the
     * coordinator refuses a process whose digest differs from the others'.
     */
    public static String digest(TrainingJob job, JobOptions options) {
        TrainerConfig t = job.config().trainer();
        String d = String.join("|", "elastic=" + options.elastic(), new TreeMap<>(job.model().toProperties()).toString(),
                job.optimizer().toString(), job.embeddingOptimizer().toString(), job.config().sync().toString(),
                "trainers=" + job.config().trainers(), "workers=" + t.workers(), "batch=" + t.batchSize(), "seed=" + job.seed(),
                "ps=" + job.config().psShards(), "ps-replicas=" + options.psReplicas(), "epochs=" + t.epochs(), "examples=" + t.examples(),
                "split=" + t.split().label(), "shuffle=" + t.shuffle(),
                // in memory no trainer reads a split, and a server, which never loads the data, sees the file as splittable
                "input-splits=" + (!options.inMemory() && splits(job)), "in-memory=" + options.inMemory(),
                "codec=" + job.config().codec().name().toLowerCase(Locale.ROOT), "row-codec=" + job.config().rowCodec().name(),
                "checkpoints=" + (options.checkpoints() != null)); // all take part in checkpoints, or none
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(d.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * The settings a checkpoint records and a resumed run must match: everything that shapes the model, the
     * optimizers, the synchronization and the data positions. The budget (epochs, examples) may change: the run goes
     * on to the new total.
     *
     * @param inMemory        whether the trainers read all the data from memory (--in-memory); a trainer process whose
     *                        data is its own input split loaded before training (an {@link io.shadowsync.data.OwnShare} of
     *                        in-memory data) records in-memory with input-splits shares
     * @param dataFingerprint what tells the training data from other data of its layout (see
     *                        {@link io.shadowsync.data.DataSource#fileFingerprint}); compared on resume
     */
    public static Map<String, String> checkpointSettings(TrainingJob job, boolean inMemory, String dataFingerprint) {
        TrainerConfig t = job.config().trainer();
        // a trainer process that loaded its own input split before training: in memory (shard positions), split by input splits
        boolean ownSplitLoaded = !inMemory && ownSplitLoaded(job);
        inMemory |= ownSplitLoaded;
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(job.model().toProperties()).entrySet()) m.put("model." + e.getKey(), e.getValue());
        for (Map.Entry<String, Object> e : job.optimizer().toMap().entrySet()) m.put("optimizer." + e.getKey(), String.valueOf(e.getValue()));
        for (Map.Entry<String, Object> e : job.embeddingOptimizer().toMap().entrySet()) m.put("emb-optimizer." + e.getKey(), String.valueOf(e.getValue()));
        SyncSpec s = job.config().sync();
        m.put("sync", s.algorithm());
        m.putAll(s.descriptor().settings(s, job.config().trainers())); // sync-every in the foreground, the algorithm's own settings
        m.put("trainers", Integer.toString(job.config().trainers()));
        m.put("workers", Integer.toString(t.workers()));
        m.put("batch", Integer.toString(t.batchSize()));
        m.put("seed", Long.toString(job.seed()));
        m.put("ps-shards", Integer.toString(job.config().psShards()));
        m.put("split", t.split().label());
        m.put("in-memory", Boolean.toString(inMemory));
        if (inMemory) m.put("shuffle", Boolean.toString(t.shuffle()));
        // several trainers read input splits (streamed, kept after the first pass, or each its own loaded before training),
        // not every N-th line as before
        if (job.config().trainers() > 1 && (ownSplitLoaded || !inMemory && splits(job))) m.put("trainer-shares", "input-splits");
        m.put("data", job.data().schema().toString());
        m.put(io.shadowsync.ckpt.CheckpointDir.DATA_FINGERPRINT, dataFingerprint);
        return m;
    }

    /** Whether the job's trainers each read their own input split of the data (a splittable source), not every N-th example. */
    private static boolean splits(TrainingJob job) {
        if (ownSplitLoaded(job)) return true; // read by input splits, as a server (which never loads it) sees the files
        return io.shadowsync.engine.feed.BatchSupply.splits(job.data(), job.config().trainers());
    }

    /** Whether the job's data is a trainer process's own input split, loaded into memory before training. */
    private static boolean ownSplitLoaded(TrainingJob job) {
        return job.data() instanceof io.shadowsync.data.OwnShare o && o.data() instanceof io.shadowsync.data.InMemorySource;
    }
}
