package io.shadowsync.cli;

import io.shadowsync.data.ClassInference;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.CsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.IdxSource;
import io.shadowsync.data.LibSvmSource;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.nn.ModelSpec;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options shared by every command that reads data: the format and how to read it. */
final class DataOptions {
    @Option(names = "--format", paramLabel = "FMT",
            description = "Data format: criteo, libsvm, csv or idx (default: from the file name: .tsv → criteo, .csv → csv, .svm/.libsvm → libsvm, *idx* → idx).")
    String format;

    @Option(names = "--label-col", paramLabel = "NAME", description = "CSV: the label column, by its header name.")
    String labelCol;

    @Option(names = "--classes", paramLabel = "C",
            description = "LibSVM/CSV labels: 2 for binary 0/1 (LibSVM also takes -1/+1), C > 2 for classes 0..C-1, 0 for regression "
                    + "(default: inferred from the training labels, and said on stderr; eval/predict: the model's).")
    Integer classes;

    @Option(names = "--zero-based", description = "LibSVM: feature indices start at 0 (default: 1).")
    boolean zeroBased;

    @Option(names = "--idx-mean", paramLabel = "M", description = "IDX: pixels become (p/255 - M)/S; default 0.")
    float idxMean = 0f;

    @Option(names = "--idx-std", paramLabel = "S", description = "IDX: see --idx-mean; default 1.")
    float idxStd = 1f;

    @Option(names = "--skip-bad-lines", description = "Skip and count malformed lines instead of stopping at the first one.")
    boolean skipBadLines;

    /**
     * --classes when it was not given: LibSVM and CSV training data have their class count inferred from the labels
     * (one pass over the file), said on stderr; it then holds for the eval data too. Refuses labels that settle
     * nothing (fractional, negative, very large), naming --classes. Other formats carry their own labelling.
     */
    void inferClasses(Path train, java.io.PrintWriter err) throws java.io.IOException {
        if (classes != null) return;
        String fmt = formatOf(train);
        if (!fmt.equals("libsvm") && !fmt.equals("csv")) return;
        boolean libsvm = fmt.equals("libsvm");
        DataSource regression = libsvm ? new LibSvmSource(train, 0, zeroBased, skipBadLines) : csv(train, 0);
        ClassInference.Result r = ClassInference.infer(regression, libsvm);
        if (r.classes() < 0) {
            throw new UsageException(train + ": cannot infer the number of classes from the labels: " + r.reason()
                    + "; give --classes 0 for regression, or --classes C for classes 0..C-1");
        }
        classes = r.classes();
        err.println("shadowsync: --classes not given: inferred " + (classes == 2 ? "binary labels (--classes 2)"
                : classes + " classes 0.." + (classes - 1) + " (--classes " + classes + ")")
                + " from " + String.format(Locale.ROOT, "%,d", r.examples()) + " labels of " + train
                + (r.seen() < classes ? ", " + r.seen() + " of them present" : ""));
        err.flush();
    }

    /** --classes when it was not given: the saved model's (eval, predict). */
    void classesOfModel(ModelSpec spec) {
        if (classes != null) return;
        if (spec instanceof MlpSpec m) {
            classes = switch (m.task()) {
                case "regression" -> 0;
                case "multiclass" -> m.outputs();
                default -> 2;
            };
        } else {
            classes = 2;
        }
    }

    private CsvSource csv(Path path, int numClasses) throws java.io.IOException {
        if (labelCol == null) throw new UsageException("CSV data needs --label-col NAME (the header name of the label column)");
        return new CsvSource(path, labelCol, numClasses, skipBadLines);
    }

    /** The format of path: --format if given, else guessed from the name. */
    String formatOf(Path path) {
        if (format != null) {
            String f = format.toLowerCase(Locale.ROOT);
            if (!f.equals("criteo") && !f.equals("libsvm") && !f.equals("csv") && !f.equals("idx")) {
                throw new UsageException("--format must be criteo, libsvm, csv or idx, not '" + format + "'");
            }
            return f;
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) name = name.substring(0, name.length() - 3);
        if (name.endsWith(".tsv")) return "criteo";
        if (name.endsWith(".csv")) return "csv";
        if (name.endsWith(".svm") || name.endsWith(".libsvm") || name.endsWith(".svmlight")) return "libsvm";
        if (name.contains("idx")) return "idx";
        throw new UsageException(path + ": cannot tell the data format from the file name; give --format criteo|libsvm|csv|idx");
    }

    /** --classes, or binary when neither given nor inferred. */
    private int classes() {
        return classes == null ? 2 : classes;
    }

    /**
     * Opens a data set. labels is the separate label file of IDX data (null otherwise); role names the flag
     * that gave the path, for messages ("--train").
     */
    DataSource source(Path path, Path labels, String role, String labelsRole) throws java.io.IOException {
        String fmt = formatOf(path);
        if (fmt.equals("idx") && labels == null) {
            throw new UsageException("IDX data needs its label file too: give " + labelsRole + " with " + role);
        }
        if (!fmt.equals("idx") && labels != null) {
            throw new UsageException(labelsRole + " is only for --format idx (the labels of " + fmt + " data are in the data file)");
        }
        return switch (fmt) {
            case "criteo" -> new CriteoTsvSource(path, skipBadLines);
            case "libsvm" -> new LibSvmSource(path, classes(), zeroBased, skipBadLines);
            case "csv" -> csv(path, classes());
            case "idx" -> new IdxSource(path, labels, idxMean, idxStd);
            default -> throw new IllegalStateException(fmt);
        };
    }
}
