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
 * whether it heard of trainers waiting to join, and its round number, so that all draw the same pairing; the random
 * schedule's seed comes from the job's seed, which every trainer shares and the job's digest holds). On the built-in
 * transports a pair's exchange goes on the pair's direct channel, so a trainer sends one replica a round.
 *
 * <p>Each pair's average is the same on both sides (bit for bit with a lossless codec), so a round keeps the mean of
 * the replicas (up to float rounding) and shrinks their spread by the schedule's mixing rate.
 *
 * <p>Under a lossy codec ({@code --compress}) a trainer sends not its replica but its <b>offset from a reference</b>
 * R that every member holds alike, {@code d = s − R}, through {@link Collective#exchangeEncoded} with its own encoder
 * (kept across rounds: int8:stochastic's rounding stream), and moves by half the difference of the two <em>decoded</em>
 * offsets, {@code w += (q(d_peer) − q(d)) / 2}: the two members move by opposite amounts, so the codec's error never
 * shifts the mean, and what a message left out is still in the sender's offset next round. R is the replicas' average,
 * taken in one global average (as model averaging's) in the first round of a run under a lossy codec, and again in
 * the round after any member lacked one (a resumed run, a newcomer to an elastic group); R stays fixed in between,
 * identical on every member, whichever peers a schedule pairs. Offsets are what top-k and int8's per-chunk scales
 * work well on: top-k of the parameters themselves would send the largest weights every round and never mix the rest.
 * Top-k runs without error feedback here: an offset is a position, not a change, and a residual would send what the
 * offset still holds a second time.
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
    /** What the schedule's seed mixes into the job's seed, so that it differs from the seeds drawn for anything else. */
    private static final long SALT = 0x5eed_6055_1b00L;
    private final Collective trainers;
    private final GossipSchedule schedule;
    /** The random schedule's seed: drawn from the job's seed, so the same on every trainer of a job (and its digest). */
    private final long seed;
    private final float[] snapshot;
    /** The peer's replica; the final round's sum (with its flags after the parameters); a broadcast's scratch. */
    private final float[] other;
    /** The round number, as two 16-bit halves (exact in floats): the checkpoint state. */
    private final float[] round = new float[2];
    /** Under a lossy codec: this trainer's encoder (error feedback off) and its offset buffer; else null. */
    private final Rounds.Compression compression;
    /** Under a lossy codec: the reference R, the same on every member; null until a global round sets it. */
    private float[] reference;
    /** The last message this trainer's encoder wrote (a message codec), so that it moves by what its peer decoded. */
    private byte[] sent;

    /**
     * @param size    number of dense parameters
     * @param jobSeed the job's seed, the same on every trainer: the random schedule's pairings are drawn from it, so
     *                the trainers of a job agree on them and jobs of different seeds pair differently
     */
    public Gossip(Collective trainers, int size, GossipSchedule schedule, long jobSeed) {
        if (size < 1) throw new IllegalArgumentException("gossip needs at least one parameter, got " + size);
        this.trainers = trainers;
        this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
        this.seed = scheduleSeed(jobSeed);
        this.snapshot = new float[size];
        this.other = new float[Rounds.bufferLength(trainers, size)];
        this.compression = Rounds.Compression.of(trainers, size, false);
    }

    /** The schedule's seed of a job of the given seed (a mix of it, so that it is not the seed of the job's data order). */
    public static long scheduleSeed(long jobSeed) {
        return new java.util.SplittableRandom(jobSeed ^ SALT).nextLong();
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
            // the control round: who still trains, who heard of joiners, the latest round number (a member that
            // missed a round, because the group changed under it, catches up, so every member draws the same pairs),
            // and, under a lossy codec, who lacks the reference (then every member takes a new one, so all hold the same)
            long[] all = trainers.allGatherLongs(new long[] {training ? 1 : 0,
                    trainers instanceof ElasticGroup g && g.joinersWaiting() ? 1 : 0, rounds(),
                    compression != null && reference == null ? 1 : 0});
            active = 0;
            long r = 0;
            boolean newReference = false;
            for (int i = 0; i < all.length; i += 4) {
                active += (int) all[i];
                waiting |= all[i + 1] != 0;
                r = Math.max(r, all[i + 2]);
                newReference |= all[i + 3] != 0;
            }
            setRounds(r);
            if (active == 0) {
                averageAll(w);
                return 0;
            }
            if (newReference) {
                Rounds.average(trainers, w, snapshot, other, training, null, null); // the replicas' mean, alike everywhere
                reference = java.util.Arrays.copyOf(other, n);
            }
            int peer = schedule.peer(trainers.rank(), trainers.size(), r, seed);
            System.arraycopy(w, 0, snapshot, 0, n);
            Rounds.requireFinite("trainer " + trainers.rank() + "'s replica", snapshot, n);
            if (compression == null) {
                trainers.exchange(peer, snapshot, 0, other, 0, n);
            } else {
                exchangeOffsets(peer);
            }
            setRounds(r + 1);
            if (peer != trainers.rank()) mix(w, training);
        } catch (GroupChangedException e) {
            // dropped as a straggler and admitted again: take rank 0's replica (and, under a lossy codec, ask for a
            // new reference: the members' may have been taken while this one was away)
            if (e.rejoined()) {
                Rounds.receiveState((ElasticGroup) trainers, other, w);
                reference = null;
            }
            return 1; // the next round pairs the new members
        }
        if (waiting && trainers instanceof ElasticGroup g && g.admitJoiners() > 0) {
            if (trainers.rank() == 0) System.arraycopy(w, 0, other, 0, n);
            trainers.broadcast(other, 0, n, 0); // the newcomers' side is Rounds.receiveState
        }
        return active;
    }

    /**
     * Under a lossy codec: sends this trainer's offset from the reference, {@code d = s − R}, and leaves the peer's
     * decoded offset in other and this trainer's own, as the peer decoded it, in the compression's buffer.
     */
    private void exchangeOffsets(int peer) throws InterruptedException {
        int n = snapshot.length;
        float[] d = compression.change();
        for (int i = 0; i < n; i++) d[i] = snapshot[i] - reference[i];
        Codec.Encoder encoder = compression.encoder();
        Codec codec = encoder.codec();
        sent = null;
        trainers.exchangeEncoded(new Codec.Encoder() { // the encoder's message, kept: what the peer decodes
            @Override
            public Codec codec() {
                return codec;
            }

            @Override
            public byte[] encode(float[] x, int off, int len) {
                return sent = encoder.encode(x, off, len);
            }
        }, peer, d, 0, other, 0, n);
        if (sent != null) {
            codec.decode(ByteBuffer.wrap(sent), d, 0, n);
        } else {
            codec.round(d, 0, n); // a fixed-width codec: the links rounded d, value by value, as this does
        }
    }

    /** w moves to the average with the peer's replica (in other), or under a lossy codec by half the offsets' difference. */
    private void mix(float[] w, boolean training) {
        int n = snapshot.length;
        if (compression != null) {
            float[] mine = compression.change();
            for (int i = 0; i < n; i++) w[i] += (other[i] - mine[i]) * 0.5f; // t − s = (q(d_peer) − q(d)) / 2
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

    @Override
    public long rawBytesSent() {
        return trainers.rawBytesSent();
    }
}
