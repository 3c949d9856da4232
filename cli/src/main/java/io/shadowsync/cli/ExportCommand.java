package io.shadowsync.cli;

import io.shadowsync.api.TrainedModel;
import io.shadowsync.cli.export.OnnxExport;
import io.shadowsync.cli.export.SafetensorsExport;
import io.shadowsync.cli.export.proto.Onnx.ModelProto;
import io.shadowsync.ckpt.AtomicFiles;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync export --model-file M --format onnx|safetensors --out F}: a saved model as an ONNX graph that
 * computes what {@code predict} writes, or its parameters as safetensors named like the PyTorch peer's state_dict
 * (docs/export.md). The file is written atomically.
 */
@Command(name = "export", sortOptions = false, description = "Write a saved model as ONNX or safetensors (see docs/export.md).")
public final class ExportCommand implements Callable<Integer> {
    /** The formats export writes. */
    enum Format { onnx, safetensors }

    @Spec
    CommandSpec spec;

    @Option(names = "--model-file", required = true, paramLabel = "MODEL", description = "A model file written by 'train --save'.")
    Path modelFile;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "onnx (a graph scoring like 'predict') or safetensors (the parameters).")
    Format format;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The file to write (replaced atomically); its directory must exist.")
    Path outFile;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        Path dir = outFile.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new UsageException("--out " + outFile + ": directory " + dir + " does not exist");
        new Outputs().input("--model-file", modelFile).output("--out", outFile).check();
        TrainedModel m = TrainedModel.load(modelFile);
        switch (format) {
            case onnx -> {
                ModelProto onnx = OnnxExport.of(m, Version.get());
                AtomicFiles.write(outFile, ch -> {
                    OutputStream os = Channels.newOutputStream(ch); // not closed here: AtomicFiles owns the channel
                    onnx.writeTo(os);
                    os.flush();
                });
            }
            case safetensors -> {
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("format", "pt");
                meta.put("producer", "shadowsync " + Version.get());
                meta.put("model", m.spec().toString());
                AtomicFiles.write(outFile, ch -> SafetensorsExport.write(m, meta, ch));
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", m.spec().kind());
        summary.put("format", format.name());
        summary.put("out", outFile.toString());
        summary.put("bytes", Files.size(outFile));
        spec.commandLine().getOut().println(Json.line(summary));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
