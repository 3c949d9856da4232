package io.shadowsync.spark;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.Placement;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.BarrierTaskContext;

/**
 * The {@link Placement} of a Spark barrier stage: every task binds what it runs (a trainer, a parameter-server shard,
 * or both) first, then exactly one {@link BarrierTaskContext#allGather} gives every task every address and every
 * trainer's share fingerprint. One instance serves both processes of its task.
 */
final class BarrierPlacement implements Placement {
    private final Membership members;
    private final HostPort trainer;
    private final HostPort server;
    private final int shard;
    /** Each trainer's share fingerprint, by rank. */
    private final List<String> shares;

    private BarrierPlacement(Membership members, HostPort trainer, HostPort server, int shard, List<String> shares) {
        this.members = members;
        this.shares = shares;
        this.trainer = trainer;
        this.server = server;
        this.shard = shard;
    }

    /**
     * This task's message in the gather: its trainer's address (or "-"), a space, its shard and that's address (or "-"),
     * a space, its trainer's share fingerprint (or "-").
     */
    static String message(HostPort trainer, int shard, HostPort server, String share) {
        return (trainer == null ? "-" : trainer.toString()) + " " + (server == null ? "-" : shard + "@" + server) + " "
                + (trainer == null ? "-" : share);
    }

    /**
     * Gathers every task's addresses and share fingerprint (the one allGather of the stage). trainer: this task's
     * trainer, or null; server: its shard's address, or null; share: its trainer's share fingerprint. Checks that every
     * trainer and every shard is there exactly once.
     */
    static BarrierPlacement gather(BarrierTaskContext ctx, int trainers, int shards, HostPort trainer, int shard, HostPort server, String share) {
        String[] all = ctx.allGather(message(trainer, shard, server, share));
        return parse(all, trainers, shards, trainer, shard, server);
    }

    /** The membership the messages of every task give (in partition order). */
    static BarrierPlacement parse(String[] all, int trainers, int shards, HostPort trainer, int shard, HostPort server) {
        HostPort[] t = new HostPort[trainers];
        HostPort[] s = new HostPort[shards];
        String[] fp = new String[trainers];
        int nextTrainer = 0;
        for (String m : all) {
            String[] f = m.split(" ", 3);
            if (f.length != 3) throw new IllegalStateException("barrier task message '" + m + "' is not 'trainer shard@server fingerprint'");
            if (!f[0].equals("-")) {
                if (nextTrainer >= trainers) throw new IllegalStateException("more trainer tasks than " + trainers + " trainers");
                fp[nextTrainer] = f[2];
                t[nextTrainer++] = HostPort.parse(f[0]);
            }
            if (!f[1].equals("-")) {
                int at = f[1].indexOf('@');
                int k = Integer.parseInt(f[1].substring(0, at));
                if (k < 0 || k >= shards || s[k] != null) throw new IllegalStateException("shard " + k + " placed twice or outside 0.." + (shards - 1));
                s[k] = HostPort.parse(f[1].substring(at + 1));
            }
        }
        if (nextTrainer != trainers) throw new IllegalStateException(nextTrainer + " trainer tasks for " + trainers + " trainers");
        for (int k = 0; k < shards; k++) if (s[k] == null) throw new IllegalStateException("no task runs parameter-server shard " + k);
        return new BarrierPlacement(Membership.fromStatic(Arrays.asList(t), Arrays.asList(s)), trainer, server, shard, List.of(fp));
    }

    /**
     * The fingerprint of every trainer's share, as trainer 0's checkpoints record it: "share 0: …; share 1: …". A retried
     * stage whose shares differ in any way (another input, another partitioning) is refused its checkpoint, naming them.
     */
    String dataFingerprint() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shares.size(); i++) b.append(i == 0 ? "" : "; ").append("share ").append(i).append(": ").append(shares.get(i));
        return b.toString();
    }

    Membership members() {
        return members;
    }

    @Override
    public Membership membership(Arrival arrival) {
        HostPort mine = arrival.role() == Role.TRAINER ? trainer : arrival.index() == shard ? server : null;
        if (mine == null || !mine.equals(arrival.self())) {
            throw new IllegalStateException(arrival.role() + " " + arrival.index() + " at " + arrival.self() + " is not what this task gathered");
        }
        return members;
    }
}
