package io.shadowsync.cli.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The chaos run as a Markdown table, one row per trial, with a header that says how to reproduce it. */
final class ChaosReport {
    /**
     * One trial.
     *
     * @param killMoments  per kill: seconds after the process started, and the fraction of the undisturbed run's time
     * @param midWrite     per kill: "yes" when a checkpoint was being written (a newest {@code ckpt-*} without manifest),
     *                     "no", or "—" when the process ended before the kill
     * @param resumes      {@code --resume} runs the trial needed (the killed ones and the last)
     * @param examples     examples of the final summary
     * @param logloss      eval logloss of the final summary
     * @param problems     what went wrong; empty: the trial passed
     */
    record Trial(int index, long seed, Kill kind, List<String> killMoments, List<String> midWrite, int resumes, long examples,
                 double logloss, List<String> problems) {
        boolean passed() {
            return problems.isEmpty();
        }
    }

    private final List<Trial> trials = new ArrayList<>();
    private final String header;

    ChaosReport(String header) {
        this.header = header;
    }

    void add(Trial t) {
        trials.add(t);
    }

    List<Trial> trials() {
        return trials;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder(header).append("\n\n");
        sb.append("| trial | seed | kind | kill moment (s, share of the run) | killed mid-checkpoint-write? | resumes | examples | eval logloss | outcome |\n");
        sb.append("|---:|---|---|---|---|---:|---:|---:|---|\n");
        for (Trial t : trials) {
            sb.append(String.format(Locale.ROOT, "| %d | %016x | %s | %s | %s | %d | %,d | %.5f | %s |%n", t.index(), t.seed(), t.kind().label,
                    String.join("; ", t.killMoments()), String.join("; ", t.midWrite()), t.resumes(), t.examples(), t.logloss(),
                    t.passed() ? "ok" : "FAIL: " + String.join("; ", t.problems()).replace("|", "/")));
        }
        return sb.toString();
    }

    void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, markdown());
    }
}
