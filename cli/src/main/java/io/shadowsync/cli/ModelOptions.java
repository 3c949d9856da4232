package io.shadowsync.cli;

import io.shadowsync.data.DataSchema;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.model.LrSpec;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ModelSpec;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options that choose and shape the model; {@link #spec} fits them to the data's schema. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "KIND", description = "lr, mlp or dlrm (default: dlrm).")
    String model = "dlrm";

    @Option(names = "--hidden", split = ",", paramLabel = "W", description = "MLP hidden widths, e.g. 256,128 (default: 256,128).")
    int[] hidden = {256, 128};

    @Option(names = "--activation", paramLabel = "F", description = "MLP activation: relu, tanh or sigmoid (default: relu).")
    String activation = "relu";

    @Option(names = "--hash-bits", paramLabel = "B", description = "LR: hash features into 2^B weights (default: 20).")
    int hashBits = 20;

    @Option(names = "--emb-rows", paramLabel = "R", description = "DLRM: rows per embedding table; ids are taken modulo R (default: 100000).")
    long embRows = 100_000;

    @Option(names = "--emb-dim", paramLabel = "D", description = "DLRM: embedding dimension (default: 16).")
    int embDim = 16;

    @Option(names = "--bottom", split = ",", paramLabel = "W", description = "DLRM: bottom-MLP hidden widths before the final embedding-sized layer (default: 64).")
    int[] bottom = {64};

    @Option(names = "--top", split = ",", paramLabel = "W", description = "DLRM: top-MLP hidden widths before the output (default: 64).")
    int[] top = {64};

    String kind() {
        String k = model.toLowerCase(Locale.ROOT);
        if (!k.equals("lr") && !k.equals("mlp") && !k.equals("dlrm")) {
            throw new UsageException("--model must be lr, mlp or dlrm, not '" + model + "'");
        }
        return k;
    }

    /** The model spec for data of the given schema; refuses combinations that cannot work, saying why. */
    ModelSpec spec(DataSchema schema) {
        return switch (kind()) {
            case "lr" -> {
                if (schema.numClasses() != 2) throw new UsageException("--model lr is binary logistic regression; the data has "
                        + (schema.numClasses() == 0 ? "regression targets" : schema.numClasses() + " classes") + " (use --model mlp)");
                yield new LrSpec(hashBits, schema.numDense(), schema.numCat(), schema.sparse());
            }
            case "mlp" -> {
                if (schema.numCat() > 0 || schema.sparse()) {
                    throw new UsageException("--model mlp takes dense features only; this data has categorical or sparse features (use --model dlrm or lr)");
                }
                String task = schema.numClasses() == 0 ? "regression" : schema.numClasses() == 2 ? "binary" : "multiclass";
                int outputs = schema.numClasses() > 2 ? schema.numClasses() : 1;
                yield new MlpSpec(schema.numDense(), hidden, outputs, activation.toLowerCase(Locale.ROOT), task);
            }
            case "dlrm" -> {
                if (schema.numCat() == 0 || schema.numDense() == 0) {
                    throw new UsageException("--model dlrm needs dense and categorical features (Criteo-style data); this data has "
                            + schema.numDense() + " dense and " + schema.numCat() + " categorical");
                }
                if (schema.numClasses() != 2) throw new UsageException("--model dlrm predicts binary labels (click / no click)");
                yield new DlrmSpec(schema.numDense(), schema.numCat(), embRows, embDim, bottom, top);
            }
            default -> throw new IllegalStateException();
        };
    }

    /** PyTorch peer's learning rate for the model (SGD), so a default run compares like with like. */
    double defaultLr() {
        return kind().equals("mlp") ? 0.05 : 0.5;
    }

    int defaultBatch() {
        return kind().equals("mlp") ? 64 : 128;
    }
}
