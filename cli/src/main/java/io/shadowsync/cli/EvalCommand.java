package io.shadowsync.cli;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.data.DataSource;
import io.shadowsync.engine.Evaluator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shadowsync eval --model-file MODEL --eval PATH}: metrics of a saved model on held-out data, and its provenance. */
@Command(name = "eval", sortOptions = false, description = "Evaluate a saved model; prints its provenance, then a JSON line with the metrics.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-file", required = true, paramLabel = "MODEL", description = "A model file written by 'train --save'.")
    Path modelFile;

    @Option(names = "--eval", required = true, paramLabel = "PATH", description = "Data to evaluate on.")
    Path eval;

    @Option(names = "--eval-labels", paramLabel = "PATH", description = "IDX: label file of --eval.")
    Path evalLabels;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--eval-batch", paramLabel = "B", description = "Batch size (default: 1024).")
    int evalBatch = 1024;

    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the JSON line to this file.")
    Path summaryJson;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        new Outputs().input("--model-file", modelFile).input("--eval", eval).input("--eval-labels", evalLabels)
                .output("--summary-json", summaryJson).check();
        TrainedModel m = TrainedModel.load(modelFile);
        data.classesOfModel(m.spec());
        DataSource source = data.source(eval, evalLabels, "--eval", "--eval-labels");
        err.println("model " + printable(modelFile.toString()) + ": " + printable(m.spec().toProperties().toString()));
        for (Map.Entry<String, String> e : m.provenance().toMap().entrySet()) err.println("  " + printable(e.getKey()) + ": " + printable(e.getValue()));
        err.flush();
        Evaluator.Result r = Evaluator.evaluate(m.model(), m.tables(), source, evalBatch);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", m.spec().kind());
        summary.put("model_file", modelFile.toString());
        summary.put("eval", r.toMap());
        Json.emit(out, summaryJson, summary);
        return 0;
    }

    /**
     * s as it may reach a terminal: control and format characters (escape sequences, carriage returns, C1 controls,
     * DEL, bidi overrides) written as a backslash, x and two hex digits (u and four above U+00FF), so that a crafted
     * model file cannot drive the terminal; a line break goes on indented (a job file's content spans lines).
     */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                b.append("\n    ");
            } else if (c == '\t') {
                b.append(c);
            } else if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                b.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
