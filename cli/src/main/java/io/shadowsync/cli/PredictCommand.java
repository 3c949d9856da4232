package io.shadowsync.cli;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.ckpt.AtomicFiles;
import io.shadowsync.data.DataSource;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync predict --model-file MODEL --input PATH --out FILE}: one line of scores per input example,
 * in input order. Binary models write the probability of label 1, regression models the prediction, multiclass
 * models the predicted class followed by every class probability, tab-separated. The file is written atomically.
 */
@Command(name = "predict", sortOptions = false, description = "Score data with a saved model; one line per example.")
public final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-file", required = true, paramLabel = "MODEL", description = "A model file written by 'train --save'.")
    Path modelFile;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "Data to score (labels, if present, are ignored).")
    Path input;

    @Option(names = "--input-labels", paramLabel = "PATH", description = "IDX: the label file that goes with --input.")
    Path inputLabels;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "Where to write the scores: a file (replaced atomically), a special file such as a FIFO (written in place), or - for stdout (the JSON line then goes to stderr).")
    Path outFile;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--batch", paramLabel = "B", description = "Batch size (default: 1024).")
    int batch = 1024;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        new Outputs().input("--model-file", modelFile).input("--input", input).input("--input-labels", inputLabels)
                .output("--out", outFile).check();
        TrainedModel m = TrainedModel.load(modelFile);
        data.classesOfModel(m.spec());
        DataSource source = data.sourceToScore(input, inputLabels, "--input", "--input-labels");
        long count;
        boolean toStdout = Outputs.isStdout(outFile);
        if (toStdout) {
            count = score(m, source, out);
        } else if (Outputs.isStderr(outFile)) {
            count = score(m, source, err);
        } else {
            long[] n = new long[1];
            AtomicFiles.write(outFile, ch -> {
                Writer w = new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(ch), StandardCharsets.UTF_8), 1 << 16);
                n[0] = score(m, source, w);
            });
            count = n[0];
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", m.spec().kind());
        summary.put("examples", count);
        summary.put("out", outFile.toString());
        PrintWriter summaryTo = toStdout ? err : out; // the scores own stdout
        summaryTo.println(Json.line(summary));
        summaryTo.flush();
        return 0;
    }

    /** Writes one line of scores per example of source to w (flushed); returns the examples scored. */
    private long score(TrainedModel m, DataSource source, Writer w) throws java.io.IOException {
        int k = m.model().outputsPerExample();
        StringBuilder sb = new StringBuilder();
        long n = m.predict(source, batch, (b, outputs, loss) -> {
                for (int i = 0; i < b.size; i++) {
                    sb.setLength(0);
                    if (k == 1) {
                        sb.append(outputs[i]);
                    } else {
                        int best = 0;
                        for (int c = 1; c < k; c++) if (outputs[i * k + c] > outputs[i * k + best]) best = c;
                        sb.append(best);
                        for (int c = 0; c < k; c++) sb.append('\t').append(outputs[i * k + c]);
                    }
                    sb.append('\n');
                    w.append(sb);
                }
            });
        w.flush();
        return n;
    }
}
