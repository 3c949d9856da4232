package io.shadowsync.sync;

/**
 * One round of synchronization of one trainer's local dense replica (DESIGN.md, "The sync algorithms").
 *
 * <p>A round snapshots {@code s = w}, computes a target {@code t} with the other trainers, and writes back
 * <b>the change, not the value</b>: {@code w += t − s}, so Hogwild progress made by the workers during the round
 * is kept. The write-back races with the workers on purpose (a worker's concurrent update of an element may be
 * lost, exactly the Hogwild race); it never takes a lock a worker waits on. A round taken with {@code training}
 * false (this trainer's workers are done, nobody else writes w) assigns {@code w = t} instead: the same value
 * without the rounding of {@code w + (t − s)}, so the replicas of a collective algorithm's last round are identical.
 *
 * <p>Shadow mode calls {@link #round} in a loop on the trainer's sync thread; foreground mode calls it from the
 * workers every K steps while the trainer's workers wait. One instance per trainer, used by one thread at a time.
 *
 * <p>Termination: collective algorithms (every trainer takes part in every round) carry, with each round, whether
 * this trainer is still training, and return how many trainers are. Trainers keep taking part in rounds until a
 * round returns 0: in that round every trainer contributed its final parameters, so it is the last
 * synchronization. Non-collective algorithms return −1 and a trainer stops after one round taken when its own
 * workers had finished.
 */
public interface SyncAlgorithm {
    /** Short name, e.g. "ma", "bmuf", "easgd". */
    String name();

    /**
     * One round on the live parameters w (written concurrently by workers).
     *
     * @param training whether this trainer's workers are still running (false: w is final)
     * @return the number of trainers still training as seen by this round, or −1 for non-collective algorithms
     */
    int round(float[] w, boolean training) throws InterruptedException;

    /**
     * Called once before the trainer's workers start: a trainer that joins a running job (an elastic group's
     * newcomer) receives the global state here, so it trains from the job's current model rather than from the start.
     */
    default void prepare(float[] w) throws InterruptedException {}

    /** Bytes this trainer has sent for synchronization so far (as encoded on the wire). */
    long bytesSent();

    /**
     * Bytes this trainer would have sent so far with every value float32 (uncompressed): over {@link #bytesSent()},
     * the compression ratio. By default (no codec) the same.
     */
    default long rawBytesSent() {
        return bytesSent();
    }

    /**
     * The state a checkpoint saves and a resumed job copies back (BMUF: the global model and the block momentum): live
     * arrays, not copies, read and written while the job is paused between rounds; their number and lengths must be the
     * same in every instance built from the same settings and size. Empty (the default) for a stateless algorithm.
     */
    default float[][] state() {
        return new float[0][];
    }
}
