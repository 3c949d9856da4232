package io.shadowsync.net.ps;

import com.google.protobuf.ByteString;
import io.shadowsync.net.proto.ReplicaStats;
import io.shadowsync.net.proto.Route;
import io.shadowsync.net.proto.RowBatch;
import java.lang.System.Logger.Level;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One replica of one shard on a node: a full copy of the shard's embedding rows with their optimizer state, and of
 * its dense block with the dense optimizer's, plus what replication needs: the replica's place in the shard's chain,
 * which position it takes for the primary, the backups it still forwards to, and per client the last push applied.
 *
 * <p><b>Chain.</b> Shard s has R replicas, on nodes s, s+1, ..., s+R−1 (mod S); the one on node s+k is at position k.
 * Position 0 starts as the primary. A replica at position k becomes the primary when a client sends it a call naming
 * it as primary (the client could not reach positions before it); from then on it refuses forwards from earlier
 * positions ({@link Refusal#NOT_PRIMARY}), so a primary that was only slow, not gone, learns at its next forward that
 * it was replaced and sends its clients on. Positions only move forward: a replica that was replaced never serves
 * again.
 *
 * <p><b>Exactly once.</b> Pushes carry (client, seq), seq increasing per client; a client lane waits for each push
 * before it sends the next one to a shard, so each replica sees a client's pushes in seq order and keeps only the
 * highest applied. A repeat (a client's retry on the next replica of a push that the old primary had already
 * forwarded there, or a forward that arrives after that retry) is acknowledged and counted, never applied twice. The
 * check and the apply of one client's push happen under that client's lock; different clients run at once (Hogwild).
 *
 * <p>Sharing contract: thread-safe. Role changes are rare and synchronized; the data path reads a volatile.
 */
final class Replica {
    private static final System.Logger LOG = System.getLogger(Replica.class.getName());

    final int shard;
    final int position;
    final int replicas;
    final EmbeddingSlices slices;
    final DenseBlock dense;
    /** The position this replica takes for the shard's primary: ≤ position while it follows, = position as primary. */
    private volatile int primary;
    /** Per chain position after this one: 1 while this replica (as primary) still forwards to it. */
    private final AtomicIntegerArray liveBackups;
    private final ConcurrentHashMap<Long, LastSeq> clients = new ConcurrentHashMap<>();
    final LongAdder applied = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder forwardsSent = new LongAdder();
    final LongAdder forwardsReceived = new LongAdder();

    Replica(PsShardSpec spec, int position, int replicas, int maxMessageBytes) {
        this.shard = spec.shard();
        this.position = position;
        this.replicas = replicas;
        this.slices = new EmbeddingSlices(spec, maxMessageBytes);
        this.dense = new DenseBlock(spec.denseInitial(), spec.shard(), spec.shards(), spec.denseOptimizer());
        this.liveBackups = new AtomicIntegerArray(replicas);
        for (int j = position + 1; j < replicas; j++) liveBackups.set(j, 1);
    }

    boolean isPrimary() {
        return primary == position;
    }

    int primary() {
        return primary;
    }

    boolean backupLive(int j) {
        return liveBackups.get(j) == 1;
    }

    /** "shard 1 replica 0" */
    String name() {
        return "shard " + shard + " replica " + position;
    }

    /**
     * Lets a call in, or refuses it: a client's call must name this replica as primary (taking over if it followed an
     * earlier one); a forward must come from the primary this replica follows or a later one.
     */
    void admit(Route route) throws Refused {
        int p = primary;
        if (!route.getForwarded()) {
            if (route.getPrimary() != position) {
                throw new Refused(Refusal.NO_SUCH_REPLICA, "a call for " + name() + " that names position "
                        + route.getPrimary() + " as primary was sent to position " + position);
            }
            if (p == position) return;
            if (p > position) throw deposed(p);
            takeOver();
        } else {
            int from = route.getPrimary();
            if (from >= position) {
                throw new Refused(Refusal.NO_SUCH_REPLICA, "a forward to " + name() + " from position " + from
                        + ": a primary forwards only to the positions after it");
            }
            if (from == p) return;
            if (from < p) throw deposed(p);
            follow(from);
        }
    }

    private Refused deposed(int p) {
        return new Refused(Refusal.NOT_PRIMARY, name() + " was replaced as primary (by position " + p + " or a later one): "
                + "send the call to the next replica");
    }

    private synchronized void takeOver() {
        int was = primary;
        if (was >= position) return;
        primary = position;
        LOG.log(Level.INFO, name() + " takes over as primary (a client could not reach position " + was
                + "); it forwards to " + backups());
    }

    private synchronized void follow(int from) {
        int was = primary;
        if (from <= was) return;
        primary = from;
        LOG.log(Level.INFO, name() + " now follows position " + from + " as primary (was " + was + ")");
    }

    /** As primary: a backup that a forward could not reach is dropped; pushes are then on every live replica. */
    void dropBackup(int j, String why) {
        if (liveBackups.compareAndSet(j, 1, 0)) {
            LOG.log(Level.INFO, name() + " (primary) drops its backup at position " + j + ": " + why + "; it forwards to "
                    + backups() + " from now on");
        }
    }

    /** As primary: a backup says another replica took over; this one steps down for good. */
    synchronized void stepDown(int newPrimary, String why) {
        if (newPrimary <= primary) return;
        primary = newPrimary;
        LOG.log(Level.INFO, name() + " steps down as primary: " + why);
    }

    private String backups() {
        StringBuilder b = new StringBuilder();
        for (int j = position + 1; j < replicas; j++) {
            if (liveBackups.get(j) == 1) b.append(b.isEmpty() ? "positions " : ", ").append(j);
        }
        return b.isEmpty() ? "no backup (it holds the only live copy)" : b.toString();
    }

    /**
     * Applies a push of rows once per (client, seq); returns the rows it carries (applied or repeated).
     *
     * @throws Refused when the message is bad (then nothing is applied and the seq is not recorded)
     */
    int pushRows(RowBatch req) throws Refused {
        Route r = req.getRoute();
        if (r.getForwarded()) forwardsReceived.increment();
        if (r.getClient() == 0) {
            applied.increment();
            return slices.push(req);
        }
        LastSeq last = lastSeq(r.getClient());
        synchronized (last) {
            if (r.getSeq() <= last.seq) {
                duplicates.increment();
                int n = 0;
                for (int k = 0; k < req.getSegmentsCount(); k++) n += req.getSegments(k).getCount();
                return n;
            }
            int n = slices.push(req);
            last.seq = r.getSeq();
            applied.increment();
            return n;
        }
    }

    /** Applies a dense push (a delta, or a gradient with the block's optimizer) once per (client, seq). */
    void pushDense(ByteString data, String codec, Route r, boolean gradient) throws Refused {
        if (r.getForwarded()) forwardsReceived.increment();
        if (r.getClient() == 0) {
            applyDense(data, codec, gradient);
            return;
        }
        LastSeq last = lastSeq(r.getClient());
        synchronized (last) {
            if (r.getSeq() <= last.seq) {
                duplicates.increment();
                return;
            }
            applyDense(data, codec, gradient);
            last.seq = r.getSeq();
        }
    }

    private void applyDense(ByteString data, String codec, boolean gradient) throws Refused {
        if (gradient) dense.pushGradient(data, codec);
        else dense.pushDelta(data, codec);
        applied.increment();
    }

    private LastSeq lastSeq(long client) {
        LastSeq last = clients.get(client);
        if (last == null) {
            LastSeq fresh = new LastSeq();
            last = clients.putIfAbsent(client, fresh);
            if (last == null) last = fresh;
        }
        return last;
    }

    ReplicaStats stats() {
        ReplicaStats.Builder b = ReplicaStats.newBuilder().setShard(shard).setPosition(position).setPrimary(primary)
                .setIsPrimary(isPrimary()).setPushesApplied(applied.sum()).setDuplicatesIgnored(duplicates.sum())
                .setForwardsSent(forwardsSent.sum()).setForwardsReceived(forwardsReceived.sum());
        if (isPrimary()) for (int j = position + 1; j < replicas; j++) if (liveBackups.get(j) == 1) b.addLiveBackups(j);
        return b.build();
    }

    /** The highest seq of one client applied here; guarded by its own monitor. */
    private static final class LastSeq {
        long seq = Long.MIN_VALUE;
    }
}
