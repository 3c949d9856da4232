package io.shadowsync.comm;

/**
 * The emulated links of a sharded in-process server (one per shard) and the cost of one client call.
 *
 * <p>Cost model (documented on both servers): a client call (one pull or one push) is one round trip per shard
 * it touches, all shards at once. Each endpoint has one link that carries both directions of its traffic (a
 * half-duplex simplification, conservative): the trainer's link carries the call's total bytes, shard s's link its
 * own part, each with two latencies (request and reply). The call returns when the last of these is delivered.
 * So one trainer is limited by its own NIC, and many trainers hammering one shard by that shard's. The data moves
 * at the start of the call; the caller then waits out the emulated time.
 */
final class ServerLinks {
    private final EmulatedLink[] shards;

    ServerLinks(int n, LinkModel model) {
        if (model == null) throw new IllegalArgumentException("a shard link model is required; LinkModel.NONE means no emulation");
        shards = new EmulatedLink[n];
        for (int s = 0; s < n; s++) shards[s] = new EmulatedLink(model);
    }

    EmulatedLink shard(int s) {
        if (s < 0 || s >= shards.length) throw new IllegalArgumentException("no shard " + s + "; the server has " + shards.length);
        return shards[s];
    }

    /** Bytes moved to and from all shards so far. */
    long bytes() {
        long b = 0;
        for (EmulatedLink l : shards) b += l.bytes();
        return b;
    }

    /** Reserves shard s's link for its part of a call; returns the later of deadline and that part's delivery. */
    long chargeShard(int s, long bytes, long deadline) {
        return chargeShard(s, bytes, deadline, 2);
    }

    /** As {@link #chargeShard(int, long, long)}, with the number of latencies the part pays (0 when it rides on a request already sent). */
    long chargeShard(int s, long bytes, long deadline, int latencies) {
        return later(deadline, shards[s].reserve(bytes, latencies == 0 ? 0 : 2, latencies));
    }

    /**
     * Reserves the trainer's link (null: the caller is in the server's process, no link) for the whole call and
     * waits until the call's last part is delivered.
     */
    static void finishCall(EmulatedLink trainer, long bytes, int shardsTouched, long deadline) throws InterruptedException {
        finishCall(trainer, bytes, shardsTouched, deadline, 2);
    }

    static void finishCall(EmulatedLink trainer, long bytes, int shardsTouched, long deadline, int latencies) throws InterruptedException {
        if (trainer != null && shardsTouched > 0) deadline = later(deadline, trainer.reserve(bytes, latencies == 0 ? 0 : 2 * shardsTouched, latencies));
        EmulatedLink.awaitDeadline(deadline);
    }

    /** The later of two delivery times, where 0 means "no wait". */
    private static long later(long a, long b) {
        if (a == 0) return b;
        if (b == 0) return a;
        return b - a > 0 ? b : a;
    }
}
