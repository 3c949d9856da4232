package io.shadowsync.spark;

import io.shadowsync.net.HostPort;
import io.shadowsync.net.rdv.Membership;
import io.shadowsync.net.rdv.Role;
import io.shadowsync.net.run.Placement;
import java.util.Arrays;
import org.apache.spark.BarrierTaskContext;

/**
 * The {@link Placement} of a Spark barrier stage: every task binds what it runs (a trainer, a parameter-server shard,
 * or both) first, then exactly one {@link BarrierTaskContext#allGather} gives every task every address. One instance
 * serves both processes of its task.
 */
final class BarrierPlacement implements Placement {
    private final Membership members;
    private final HostPort trainer;
    private final HostPort server;
    private final int shard;

    private BarrierPlacement(Membership members, HostPort trainer, HostPort server, int shard) {
        this.members = members;
        this.trainer = trainer;
        this.server = server;
        this.shard = shard;
    }

    /** This task's message in the gather: its trainer's address (or "-"), a space, its shard and that's address (or "-"). */
    static String message(HostPort trainer, int shard, HostPort server) {
        return (trainer == null ? "-" : trainer.toString()) + " " + (server == null ? "-" : shard + "@" + server);
    }

    /**
     * Gathers every task's addresses (the one allGather of the stage). trainer: this task's trainer, or null; server:
     * its shard's address, or null. Checks that every trainer and every shard is there exactly once.
     */
    static BarrierPlacement gather(BarrierTaskContext ctx, int trainers, int shards, HostPort trainer, int shard, HostPort server) {
        String[] all = ctx.allGather(message(trainer, shard, server));
        return parse(all, trainers, shards, trainer, shard, server);
    }

    /** The membership the messages of every task give (in partition order). */
    static BarrierPlacement parse(String[] all, int trainers, int shards, HostPort trainer, int shard, HostPort server) {
        HostPort[] t = new HostPort[trainers];
        HostPort[] s = new HostPort[shards];
        int nextTrainer = 0;
        for (String m : all) {
            String[] f = m.split(" ");
            if (f.length != 2) throw new IllegalStateException("barrier task message '" + m + "' is not 'trainer shard@server'");
            if (!f[0].equals("-")) {
                if (nextTrainer >= trainers) throw new IllegalStateException("more trainer tasks than " + trainers + " trainers");
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
        return new BarrierPlacement(Membership.fromStatic(Arrays.asList(t), Arrays.asList(s)), trainer, server, shard);
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
