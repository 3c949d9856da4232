package io.shadowsync.sync;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.comm.GroupChangedException;
import java.nio.ByteBuffer;

/**
 * Gossip averaging (decentralized SGD's synchronization): each round a trainer averages its replica with one peer,
 * {@code t = (s + s_peer) / 2}, the pairs given by a {@link GossipSchedule} over the current members. No server and
 * no allreduce while training: the replicas travel through the trainer group's pairwise {@link Collective#exchange}
 * (and through its codec), beside a few longs on the typed control channel (every member's "still training" flag,
 * whether it heard of trainers waiting to join, and its round number, so that all draw the same pairing).
 *
 * <p>Each pair's average is the same on both sides (bit for bit with a lossless codec), so a round keeps the mean of
 * the replicas (up to float rounding) and shrinks their spread by the schedule's mixing rate. With a lossy codec a
 * trainer moves by half the difference of the two <em>encoded</em> replicas, {@code t = s + (q(s_peer) − q(s)) / 2},
 * so the codec's rounding never shifts the mean either.
 *
 * <p>The final model: when every trainer's workers are done (no member still training), the round is one global
 * average over the group (an allreduce, as model averaging), so every replica ends on the same bits and trainer 0's
 * replica is the mean of all. Until then nothing global moves parameters.
 *
 * <p>Elastic groups: the pairing is over the members of the round; a departed member is skipped from the next round
 * on. A round whose exchange fails because the group changed ({@link GroupChangedException}) is dropped and the next
 * one goes on over the new members. Newcomers are admitted after a round in which a member heard of them, and take
 * rank 0's replica. The round number is the checkpoint state.
 */
public final class Gossip implements SyncAlgorithm {
    /** The seed of the random schedule, shared by every trainer of every job: the pairings of a job are reproducible. */
    static final long SEED = 0x5eed_6055_1b00L;
    /** Values encoded at a time when a lossy codec's rounding of this trainer's own replica is measured. */
    private static final int CODEC_CHUNK = 4096;

    private final Collective trainers;
    private final GossipSchedule schedule;
    private final float[] snapshot;
    /** The peer's replica; the final round's sum (with its flags after the parameters); a broadcast's scratch. */
    private final float[] other;
    /** The round number, as two 16-bit halves (exact in floats): the checkpoint state. */
    private final float[] round = new float[2];
    private ByteBuffer encoded;

    /** @param size number of dense parameters */
    public Gossip(Collective trainers, int size, GossipSchedule schedule) {
        if (size < 1) throw new IllegalArgumentException("gossip needs at least one parameter, got " + size);
        this.trainers = trainers;
        this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
        this.snapshot = new float[size];
        this.other = new float[Rounds.bufferLength(trainers, size)];
    }

    @Override
    public String name() {
        return "gossip";
    }

    /** The number of rounds taken so far (the schedule's clock). */
    long rounds() {
        return ((long) round[0] << 16) | (long) round[1];
    }

    private void setRounds(long r) {
        round[0] = (float) ((r >>> 16) & 0xffff);
        round[1] = (float) (r & 0xffff);
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int n = snapshot.length;
        if (w.length != n) throw new IllegalArgumentException("replica has " + w.length + " parameters, the sync state " + n);
        int active;
        boolean waiting = false;
        try {
            // the control round: who still trains, who heard of joiners, and the latest round number (a member that
            // missed a round, because the group changed under it, catches up, so every member draws the same pairs)
            long[] all = trainers.allGatherLongs(new long[] {training ? 1 : 0,
                    trainers instanceof ElasticGroup g && g.joinersWaiting() ? 1 : 0, rounds()});
            active = 0;
            long r = 0;
            for (int i = 0; i < all.length; i += 3) {
                active += (int) all[i];
                waiting |= all[i + 1] != 0;
                r = Math.max(r, all[i + 2]);
            }
            setRounds(r);
            if (active == 0) {
                averageAll(w);
                return 0;
            }
            int peer = schedule.peer(trainers.rank(), trainers.size(), r, SEED);
            System.arraycopy(w, 0, snapshot, 0, n);
            Rounds.requireFinite("trainer " + trainers.rank() + "'s replica", snapshot, n);
            trainers.exchange(peer, snapshot, 0, other, 0, n);
            setRounds(r + 1);
            if (peer != trainers.rank()) mix(w, training);
        } catch (GroupChangedException e) {
            // dropped as a straggler and admitted again: take rank 0's replica
            if (e.rejoined()) Rounds.receiveState((ElasticGroup) trainers, other, w);
            return 1; // the next round pairs the new members
        }
        if (waiting && trainers instanceof ElasticGroup g && g.admitJoiners() > 0) {
            if (trainers.rank() == 0) System.arraycopy(w, 0, other, 0, n);
            trainers.broadcast(other, 0, n, 0); // the newcomers' side is Rounds.receiveState
        }
        return active;
    }

    /** w moves to the average with the peer's replica (in other). */
    private void mix(float[] w, boolean training) {
        int n = snapshot.length;
        Codec codec = trainers.codec();
        if (!codec.lossless()) {
            roundTrip(codec); // snapshot becomes q(s), as the peer received it
            for (int i = 0; i < n; i++) w[i] += (other[i] - snapshot[i]) * 0.5f; // t − s = (q(peer) − q(s)) / 2
            return;
        }
        for (int i = 0; i < n; i++) {
            float t = (snapshot[i] + other[i]) * 0.5f; // commutative: the peer computes the same bits
            if (training) {
                w[i] += t - snapshot[i]; // the change t − s; workers keep writing w meanwhile (Hogwild race, intended)
            } else {
                w[i] = t;
            }
        }
    }

    /** The snapshot as the codec delivers it to the peer. */
    private void roundTrip(Codec codec) {
        if (encoded == null) encoded = ByteBuffer.allocate(Math.toIntExact(codec.encodedBytes(CODEC_CHUNK)));
        for (int at = 0; at < snapshot.length; at += CODEC_CHUNK) {
            int len = Math.min(CODEC_CHUNK, snapshot.length - at);
            encoded.clear();
            codec.encode(snapshot, at, len, encoded);
            encoded.flip();
            codec.decode(encoded, snapshot, at, len);
        }
    }

    /** The final round: every replica becomes the mean over the group, the same bits on every member. */
    private void averageAll(float[] w) throws InterruptedException {
        int n = snapshot.length;
        Rounds.averageWithFlag(trainers, w, snapshot, other, false);
        float inv = 1f / Rounds.contributors(trainers, other, n);
        for (int i = 0; i < n; i++) w[i] = other[i] * inv;
    }

    /** A newcomer to an elastic group takes rank 0's replica. */
    @Override
    public void prepare(float[] w) throws InterruptedException {
        if (trainers instanceof ElasticGroup g && g.needsState()) Rounds.receiveState(g, other, w);
    }

    @Override
    public float[][] state() {
        return new float[][] {round};
    }

    @Override
    public long bytesSent() {
        return trainers.bytesSent();
    }
}
