package io.shadowsync.comm;

/**
 * A {@link Collective} whose members may change between operations: elastic trainers. A member that dies (or stops
 * answering for longer than the group's straggler bound) is dropped and the survivors go on; a trainer started later
 * is admitted at a round boundary and takes the current global state from a survivor.
 *
 * <p>What the group does itself: an {@link #allReduce} or {@link #barrier} that fails because a member vanished is
 * re-formed over the survivors and run again from this rank's original input, so the caller sees one call that
 * succeeded (over fewer ranks: {@link #size()} and {@link #rank()} may change across any call). What the caller (a
 * sync algorithm) does, because only it knows its state:
 * <ul>
 *   <li>carries {@link #joinersWaiting()} in its round's allreduce, so that every member learns in the same round
 *       that someone waits, and then calls {@link #admitJoiners()} — every member after the same round;</li>
 *   <li>after an admission that returned more than 0, broadcasts its state from rank 0 (rank 0 is always a member
 *       that already had the state: survivors keep their order, newcomers come last);</li>
 *   <li>on a member that {@link #needsState()} (a trainer that joined a running job, or one that was dropped as a
 *       straggler and came back), receives that broadcast before it trains on: {@link #broadcast} with root 0;</li>
 *   <li>divides by the round's own count of contributors, never by a size read before the round.</li>
 * </ul>
 * An operation whose layout depends on the size ({@link #allGather}) or on a root that is gone throws
 * {@link GroupChangedException} after re-forming, and the caller asks again.
 */
public interface ElasticGroup extends Collective {
    /** Whether, as this rank last heard, trainers are waiting to be admitted (it may lag the others: carry it). */
    boolean joinersWaiting();

    /**
     * Admits the trainers waiting to join. Every member calls this after the same round (the one whose carried flags
     * said someone waits); returns how many were admitted, the same number on every member.
     */
    int admitJoiners() throws InterruptedException;

    /** Whether this member has joined a running group and must receive the state (broadcast from rank 0) first. */
    boolean needsState();

    /** Called by the algorithm once the state arrived. */
    void stateReceived();

    /** The membership changes so far, one line each, oldest first (for logs and the job's summary). */
    java.util.List<String> changes();
}
