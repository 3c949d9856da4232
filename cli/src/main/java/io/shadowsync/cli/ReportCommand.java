package io.shadowsync.cli;

import io.shadowsync.ckpt.AtomicFiles;
import io.shadowsync.cli.report.Report;
import io.shadowsync.cli.report.RunData;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shadowsync report RUN_DIR... --out report.html}: the runs' metrics logs side by side, as one HTML file with
 * the charts inside it (docs/report.md). Warnings (a cut-off last line, a run without summary) go to stderr and into
 * the page; a path that is no run is refused (exit 2).
 */
@Command(name = "report", sortOptions = false, description = "Charts and tables of runs (train --run-dir) side by side, as one HTML file (see docs/report.md).")
public final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run directories (train --run-dir), or metrics files.")
    List<Path> runs;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The HTML file to write (replaced atomically); its directory must exist.")
    Path outFile;

    @Option(names = "--png-dir", paramLabel = "DIR", description = "Also write each chart as DIR/ID.png (DIR is created).")
    Path pngDir;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true"); // before any AWT class: no display needed
        PrintWriter err = spec.commandLine().getErr();
        Path dir = outFile.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new UsageException("--out " + outFile + ": directory " + dir + " does not exist");
        new Outputs().output("--out", outFile).check();
        if (pngDir != null && Files.exists(pngDir) && !Files.isDirectory(pngDir)) throw new UsageException("--png-dir " + pngDir + " is not a directory");
        List<String> warnings = new ArrayList<>();
        List<RunData> data = new ArrayList<>();
        for (Path p : runs) {
            data.add(RunData.read(p, w -> {
                warnings.add(w);
                err.println("shadowsync report: warning: " + w);
            }));
        }
        err.flush();
        Report report = new Report(data, warnings);
        AtomicFiles.writeString(outFile, report.html(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()));
        if (pngDir != null) {
            Files.createDirectories(pngDir);
            for (Report.Chart c : report.charts()) Files.write(pngDir.resolve(c.id() + ".png"), Report.pngOf(c));
        }
        spec.commandLine().getOut().println("wrote " + outFile + ": " + data.size() + " run(s), " + report.charts().size() + " chart(s)");
        return 0;
    }
}
