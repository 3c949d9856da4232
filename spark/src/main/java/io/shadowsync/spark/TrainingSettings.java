package io.shadowsync.spark;

import io.shadowsync.api.TrainingJob;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ModelSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.GossipSchedule;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.io.Serializable;
import java.util.Locale;

/**
 * An estimator's training settings as the driver ships them to the barrier tasks: every task builds the same
 * {@link TrainingJob} from them over its own partition. Zero (or empty) means "the default" where the comment says so.
 *
 * @param modelType   lr, mlp or dlrm; empty: fitted to the data as {@link TrainingJob} does
 * @param lr          the dense learning rate; 0: 0.05 for an MLP, 0.5 otherwise
 * @param embLr       the embedding learning rate; 0: the dense rate
 * @param embOptimizer sgd or rowwise-adagrad; empty: sgd with sgd, rowwise-adagrad otherwise
 * @param batch       examples per mini-batch per worker; 0: 64 for an MLP, 128 otherwise
 * @param examples    train on this many examples in all instead of whole epochs; 0: epochs
 * @param sync        the algorithm's registered name; empty: the default for the number of trainers
 * @param gossipSchedule gossip's schedule by name ({@link GossipSchedule#named})
 * @param compress    the codec by name, as {@code --compress} ({@link TrainingJob.Builder#compress})
 */
record TrainingSettings(String modelType, int[] hidden, String activation, int hashBits, long embRows, int embDim, int[] bottom,
                        int[] top, String optimizer, double lr, double momentum, String embOptimizer, double embLr, int batch, int epochs,
                        long examples, long seed, boolean shuffle, int trainers, int workers, String sync, int syncEvery,
                        long syncIntervalMs, double bmufMomentum, double easgdAlpha, String gossipSchedule, int psShards,
                        String compress) implements Serializable {

    /** The job over data (a trainer's share, or a schema-only stand-in to check the settings on the driver). */
    TrainingJob job(DataSource data) {
        ModelSpec spec = model(data.schema());
        boolean mlp = spec instanceof MlpSpec;
        OptimizerSpec opt = OptimizerSpec.of(optimizer.toLowerCase(Locale.ROOT), lr > 0 ? lr : mlp ? 0.05 : 0.5).withMomentum(momentum);
        EmbeddingOptimizerSpec emb = EmbeddingOptimizerSpec.defaultFor(opt);
        if (!embOptimizer.isEmpty() || embLr > 0) {
            emb = new EmbeddingOptimizerSpec(embOptimizer.isEmpty() ? emb.name() : embOptimizer.toLowerCase(Locale.ROOT), embLr > 0 ? embLr : emb.lr());
        }
        String algorithm = sync.isEmpty() ? SyncAlgorithms.defaultFor(trainers) : sync;
        SyncSpec s = new SyncSpec(algorithm, syncEvery, syncIntervalMs, bmufMomentum, 1.0, false, easgdAlpha);
        try {
            s = s.withGossipSchedule(GossipSchedule.named(gossipSchedule));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("gossipSchedule: " + e.getMessage(), e);
        }
        TrainingJob.Builder b = TrainingJob.builder().data(data).model(spec).optimizer(opt).embeddingOptimizer(emb).trainers(trainers)
                .workers(workers).sync(s).epochs(epochs).examples(examples).seed(seed).shuffle(shuffle).psShards(psShards)
                .compress(compress);
        if (batch > 0) b.batchSize(batch);
        return b.build();
    }

    /** The model these settings give for data of this layout. */
    ModelSpec model(DataSchema s) {
        switch (modelType.toLowerCase(Locale.ROOT)) {
            case "" -> {
                return TrainingJob.builder().data(new SchemaOnly(s)).build().model(); // the one TrainingJob fits to the data
            }
            case LrSpec.KIND -> {
                return new LrSpec(hashBits, s.numDense(), s.numCat(), s.sparse());
            }
            case DlrmSpec.KIND -> {
                if (s.numCat() == 0 || s.numDense() == 0) {
                    throw new IllegalArgumentException("modelType dlrm needs dense and categorical columns: give setDenseCols and setCategoricalCols");
                }
                return new DlrmSpec(s.numDense(), s.numCat(), embRows, embDim, bottom, top);
            }
            case MlpSpec.KIND -> {
                if (s.numCat() > 0) throw new IllegalArgumentException("modelType mlp takes dense features only, not categoricalCols");
                String task = s.numClasses() == 0 ? "regression" : s.numClasses() == 2 ? "binary" : "multiclass";
                return new MlpSpec(s.numDense(), hidden, s.numClasses() > 2 ? s.numClasses() : 1, activation, task);
            }
            default -> throw new IllegalArgumentException("modelType '" + modelType + "': give lr, mlp or dlrm");
        }
    }

    /** Checks these settings against data of this layout on the driver, before any task starts. */
    void check(DataSchema schema) {
        job(new SchemaOnly(schema));
    }

    /** A source that has a layout and nothing to read: {@link TrainingJob.Builder#build()} checks settings against it. */
    record SchemaOnly(DataSchema schema) implements DataSource {
        @Override
        public ExampleReader open() {
            throw new UnsupportedOperationException("a layout, not data");
        }

        @Override
        public String describe() {
            return "the DataFrame";
        }
    }
}
