package io.shadowsync.cli;

import io.shadowsync.engine.Trainer;
import java.util.function.Supplier;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Shows training progress on stderr: a progress bar redrawn in place on a terminal (examples/s, loss over the
 * last interval, ETA when the total is known), or a plain log line every {@code logEverySec} seconds otherwise.
 * Runs on its own daemon thread and only reads the trainer's lock-free counters.
 */
final class ProgressReporter implements Runnable {
    private final Supplier<Trainer.Progress> trainer;
    private final PrintWriter err;
    private final boolean terminal;
    private final double logEverySec;
    private final long totalExamples;
    private volatile boolean done;
    private Thread thread;

    ProgressReporter(Supplier<Trainer.Progress> trainer, PrintWriter err, boolean terminal, double logEverySec, long totalExamples) {
        this.trainer = trainer;
        this.err = err;
        this.terminal = terminal;
        this.logEverySec = logEverySec;
        this.totalExamples = totalExamples;
    }

    void start() {
        if (logEverySec <= 0) return;
        thread = new Thread(this, "progress");
        thread.setDaemon(true);
        thread.start();
    }

    void stop() throws InterruptedException {
        done = true;
        if (thread != null) {
            thread.interrupt();
            thread.join(2000);
        }
        if (terminal && thread != null) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    @Override
    public void run() {
        Trainer.Progress last = trainer.get();
        long intervalMs = terminal ? 250 : (long) (logEverySec * 1000);
        long nextLog = System.nanoTime() + (long) (logEverySec * 1e9);
        Trainer.Progress windowStart = last;
        while (!done) {
            try {
                Thread.sleep(intervalMs);
            } catch (InterruptedException e) {
                return;
            }
            Trainer.Progress p = trainer.get();
            if (terminal) {
                err.print("\r\033[K" + line(p, windowStart));
                err.flush();
                if (System.nanoTime() >= nextLog) {
                    windowStart = p;
                    nextLog = System.nanoTime() + (long) (logEverySec * 1e9);
                }
            } else {
                err.println(line(p, last));
                err.flush();
            }
            last = p;
        }
    }

    /** One status line; the loss is the mean over the examples since {@code since}. */
    String line(Trainer.Progress p, Trainer.Progress since) {
        long dEx = p.examples() - since.examples();
        double loss = dEx > 0 ? (p.lossSum() - since.lossSum()) / dEx : Double.NaN;
        double rate = p.seconds() > 0 ? p.examples() / p.seconds() : 0;
        StringBuilder sb = new StringBuilder();
        if (totalExamples > 0) {
            double frac = Math.min(1.0, (double) p.examples() / totalExamples);
            if (terminal) {
                int width = 24, filled = (int) (frac * width);
                sb.append('[').append("=".repeat(filled)).append(filled < width ? ">" : "").append(" ".repeat(Math.max(0, width - filled - 1))).append("] ");
            }
            sb.append(String.format(Locale.ROOT, "%5.1f%% ", 100 * frac));
        } else {
            sb.append("epoch ").append(p.epoch()).append("  ");
        }
        sb.append(String.format(Locale.ROOT, "%,d ex  %,.0f ex/s  loss %.4f", p.examples(), rate, loss));
        if (p.syncRounds() > 0 && p.seconds() > 0) sb.append(String.format(Locale.ROOT, "  sync %.1f rounds/s", p.syncRounds() / p.seconds()));
        if (totalExamples > 0 && rate > 0 && p.examples() < totalExamples) {
            long eta = (long) ((totalExamples - p.examples()) / rate);
            sb.append(String.format(Locale.ROOT, "  ETA %d:%02d", eta / 60, eta % 60));
        }
        return sb.toString();
    }
}
