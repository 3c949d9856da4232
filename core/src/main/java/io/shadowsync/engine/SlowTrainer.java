package io.shadowsync.engine;

/**
 * A straggler, emulated for tests and benchmarks ({@code --emulate-slow-trainer I:MS}): every worker of trainer
 * {@code trainer} stalls {@code millisPerBatch} before it applies each batch, as if its machine were slower or shared.
 * The stall counts as the slow trainer's busy time, not as waiting on synchronization, so the other trainers' wait
 * counters show what the straggler does to them: nothing in shadow mode, a wait at every round in the foreground.
 *
 * <p>It sleeps by default, which frees its core for the others: on a machine with fewer cores than threads they then
 * run faster than beside a trainer at full speed. {@code spin} burns the stall on the CPU instead, so the slow trainer
 * takes the CPU share of a trainer at full speed and only its progress is slower (the fair comparison there).
 *
 * @param trainer        the rank of the slow trainer
 * @param millisPerBatch how long each of its workers stalls per batch, at least 1
 * @param spin           stall busy on the CPU rather than asleep
 */
public record SlowTrainer(int trainer, long millisPerBatch, boolean spin) {
    public SlowTrainer {
        if (trainer < 0) throw new IllegalArgumentException("the slow trainer's rank must be ≥ 0, got " + trainer);
        if (millisPerBatch < 1) {
            throw new IllegalArgumentException("a slow trainer stalls at least 1 ms per batch, got " + millisPerBatch + " (leave the emulation out for none)");
        }
    }

    /** A slow trainer that sleeps. */
    public SlowTrainer(int trainer, long millisPerBatch) {
        this(trainer, millisPerBatch, false);
    }
}
