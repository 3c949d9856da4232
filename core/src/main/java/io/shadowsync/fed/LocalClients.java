package io.shadowsync.fed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The in-process {@link ClientPool}: every client a task on a pool of threads of this JVM, all shards in memory.
 * Nothing is lost on the way, so a client is null only as a simulated dropout.
 */
final class LocalClients implements ClientPool {
    private final FederatedClient clients;
    private final ExecutorService pool;

    /** @param parallel client threads (0: one per core) */
    LocalClients(FederatedClient clients, int parallel) {
        this.clients = clients;
        int threads = parallel > 0 ? parallel : Runtime.getRuntime().availableProcessors();
        AtomicInteger named = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "fed-client-" + named.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    /** A step for every slot of the round, on the pool; a failure of one ends the step (and the run) with it. */
    private interface Step<T> {
        T run(int slot, int client) throws Exception;
    }

    private <T> List<T> each(Round round, Step<T> step) throws InterruptedException {
        List<Future<T>> futures = new ArrayList<>(round.size());
        for (int i = 0; i < round.size(); i++) {
            int slot = i;
            futures.add(pool.submit((Callable<T>) () -> step.run(slot, round.clients()[slot])));
        }
        return ClientPool.gather(futures);
    }

    @Override
    public byte[][] advertise(Round round) throws InterruptedException {
        return each(round, (slot, k) -> clients.advertise(k, slot, round.size(), round.threshold())).toArray(new byte[0][]);
    }

    @Override
    public byte[][][] deal(Round round, byte[][] advertised) throws InterruptedException {
        return each(round, (slot, k) -> clients.deal(k, advertised)).toArray(new byte[0][][]);
    }

    @Override
    public ClientUpload[] train(Round round, float[] global, float[][] tables, byte[][] advertised, byte[][][] dealt) throws InterruptedException {
        return each(round, (slot, k) -> clients.train(k, round.round(), round.drops()[slot], global, tables, advertised,
                dealt == null ? null : column(dealt, slot))).toArray(new ClientUpload[0]);
    }

    @Override
    public byte[][][] reveal(Round round, boolean[] survived) throws InterruptedException {
        return each(round, (slot, k) -> survived[slot] ? clients.reveal(k, survived) : null).toArray(new byte[0][][]);
    }

    /** [i] = what client i dealt to client to (null where i dealt nothing). */
    static byte[][] column(byte[][][] dealt, int to) {
        byte[][] out = new byte[dealt.length][];
        for (int i = 0; i < dealt.length; i++) out[i] = dealt[i] == null ? null : dealt[i][to];
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
