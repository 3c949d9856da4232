package io.shadowsync.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replica that went non-finite is never contributed to a round: its trainer's round throws NonFiniteException
 * before the allreduce (or the push to the EASGD center), so the other trainers' replicas and the center stay as they
 * were. Caught: a round that averages first (the NaN reaches every replica) or checks only after the exchange.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NonFiniteRoundTest {
    @Test
    void aNonFiniteReplicaIsNotAveragedIntoTheOthers() throws Exception {
        for (String alg : new String[] {"ma", "bmuf"}) {
            Collective[] c = InProcessCollectives.create(2, LinkModel.NONE, Duration.ofSeconds(20));
            float[] good = {1f, 2f, 3f}, bad = {1f, Float.NaN, 3f};
            SyncAlgorithm a0 = alg.equals("ma") ? new ModelAveraging(c[0], 3) : new BlockMomentum(c[0], good.clone(), 0.5, 1.0, false);
            SyncAlgorithm a1 = alg.equals("ma") ? new ModelAveraging(c[1], 3) : new BlockMomentum(c[1], good.clone(), 0.5, 1.0, false);
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t0 = new Thread(() -> {
                try {
                    a0.round(good, true);
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t0.start();
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> a1.round(bad, true));
            assertTrue(e.getMessage().contains("trainer 1's replica went non-finite (parameter 1 is NaN)"), e.getMessage());
            c[1].abort(new IllegalStateException("trainer 1 failed")); // what the job does on the failure
            t0.join(20_000);
            assertTrue(other.get() != null, alg + ": trainer 0's round fails with the group instead of averaging");
            assertArrayEquals(new float[] {1f, 2f, 3f}, good, alg + ": trainer 0's replica is untouched");
        }
    }

    @Test
    void aNonFiniteReplicaIsNotPushedToTheCenter() throws Exception {
        float[] initial = {1f, 2f, 3f};
        InProcessDenseServer server = new InProcessDenseServer(initial, 1, null, LinkModel.NONE);
        SyncAlgorithm easgd = new ElasticAveraging(server.client(new io.shadowsync.comm.EmulatedLink(LinkModel.NONE)), 3, 0.5);
        assertThrows(NonFiniteException.class, () -> easgd.round(new float[] {1f, 2f, Float.POSITIVE_INFINITY}, true));
        float[] center = new float[3];
        server.copyTo(center);
        assertArrayEquals(initial, center, "the center is untouched");
    }
}
