package io.shadowsync.cli;

import io.shadowsync.data.ClassInference;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.CsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.IdxSource;
import io.shadowsync.data.LibSvmSource;
import io.shadowsync.data.TextFiles;
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
        DataSource regression = text(train, fmt, 0, false);
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

    private CsvSource csv(Path path, int numClasses) {
        try {
            return new CsvSource(path, labelCol, numClasses, skipBadLines);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The format of path: --format if given, else guessed from the name (of a directory or glob, its first file's). */
    String formatOf(Path path) throws java.io.IOException {
        if (format != null) {
            String f = format.toLowerCase(Locale.ROOT);
            if (!f.equals("criteo") && !f.equals("libsvm") && !f.equals("csv") && !f.equals("idx")) {
                throw new UsageException("--format must be criteo, libsvm, csv or idx, not '" + format + "'");
            }
            return f;
        }
        String name = TextFiles.expand(path).get(0).getFileName().toString().toLowerCase(Locale.ROOT);
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
     * Opens a data set: a file, or (text formats) a directory's files or a glob's, read one after the other and split by
     * bytes over trainers ({@link TextFiles}). labels is the separate label file of IDX data (null otherwise); role
     * names the flag that gave the path, for messages ("--train").
     */
    DataSource source(Path path, Path labels, String role, String labelsRole) throws java.io.IOException {
        return source(path, labels, role, labelsRole, false);
    }

    /** As {@link #source(Path, Path, String, String)}, for scoring: Criteo files may lack the label column. */
    DataSource sourceToScore(Path path, Path labels, String role, String labelsRole) throws java.io.IOException {
        return source(path, labels, role, labelsRole, true);
    }

    private DataSource source(Path path, Path labels, String role, String labelsRole, boolean unlabeled) throws java.io.IOException {
        String fmt = formatOf(path);
        if (fmt.equals("idx") && labels == null) {
            throw new UsageException("IDX data needs its label file too: give " + labelsRole + " with " + role);
        }
        if (!fmt.equals("idx") && labels != null) {
            throw new UsageException(labelsRole + " is only for --format idx (the labels of " + fmt + " data are in the data file)");
        }
        if (fmt.equals("idx")) return new IdxSource(path, labels, idxMean, idxStd);
        return text(path, fmt, classes(), unlabeled);
    }

    /** The text files of path in format fmt (criteo, libsvm, csv). */
    private TextFiles text(Path path, String fmt, int numClasses, boolean unlabeled) throws java.io.IOException {
        if (fmt.equals("csv") && labelCol == null) throw new UsageException("CSV data needs --label-col NAME (the header name of the label column)");
        try {
            return TextFiles.of(path, file -> switch (fmt) {
                case "criteo" -> unlabeled ? new CriteoTsvSource(file, skipBadLines).allowingUnlabeled() : new CriteoTsvSource(file, skipBadLines);
                case "libsvm" -> new LibSvmSource(file, numClasses, zeroBased, skipBadLines);
                case "csv" -> csv(file, numClasses);
                default -> throw new IllegalStateException(fmt);
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
