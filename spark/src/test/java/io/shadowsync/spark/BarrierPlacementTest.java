package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.net.HostPort;
import org.junit.jupiter.api.Test;

/**
 * The one gather of a barrier stage: every task's addresses and every trainer's share fingerprint, which trainer 0's
 * checkpoints record. Fails on: a fingerprint of this task's share only (a retried stage whose other shares changed
 * would resume), shares out of rank order, or a server-only task's "-" taken for a share.
 */
class BarrierPlacementTest {
    private static final HostPort T0 = HostPort.parse("127.0.0.1:5000"), T1 = HostPort.parse("127.0.0.1:5001"),
            S0 = HostPort.parse("127.0.0.1:6000"), S1 = HostPort.parse("127.0.0.1:6001");

    @Test
    void everyTrainersShareIsInTheFingerprintInRankOrder() {
        String[] all = {
                BarrierPlacement.message(T0, 0, S0, "rows=10 crc32c(labels and features)=0000aaaa"),
                BarrierPlacement.message(T1, -1, null, "rows=11 crc32c(labels and features)=0000bbbb"),
                BarrierPlacement.message(null, 1, S1, null), // a server-only task (psPlacement=tasks)
        };
        BarrierPlacement p = BarrierPlacement.parse(all, 2, 2, T1, -1, null);
        assertEquals("share 0: rows=10 crc32c(labels and features)=0000aaaa; share 1: rows=11 crc32c(labels and features)=0000bbbb",
                p.dataFingerprint());
        assertEquals(java.util.List.of(T0, T1), p.members().trainers());
        assertEquals(java.util.List.of(S0, S1), p.members().servers());
    }

    @Test
    void aMessageWithoutItsFingerprintIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> BarrierPlacement.parse(new String[] {"127.0.0.1:5000 0@127.0.0.1:6000"}, 1, 1, T0, 0, S0));
        assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
    }
}
