package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The reasons the checkpointer gathers from every trainer when a step fails: exact text, a long one cut. */
class MultiProcessCheckpointerTest {
    @Test
    void reasonsTravelExactlyAsUtf8AndALongOneIsCut() throws Exception {
        String a = "writing /data/ckpt/ckpt-3/trainer-1.bin: No space left on device", b = "Prüfsumme \u2260 ✓ \uD83D\uDE00";
        String longer = "x".repeat(MultiProcessCheckpointer.REASON_CHARS + 50);
        String[] mine = {a, "", b, longer};
        String[] got = new String[mine.length];
        Throwable[] thrown = new Throwable[mine.length];
        try (InProcessCollectives g = new InProcessCollectives(mine.length, LinkModel.NONE, Duration.ofMinutes(1), 3)) {
            Thread[] t = new Thread[mine.length];
            for (int r = 0; r < mine.length; r++) {
                final int rank = r;
                Collective c = g.rank(r);
                t[r] = new Thread(() -> {
                    try {
                        got[rank] = MultiProcessCheckpointer.reasons(c, mine[rank]);
                    } catch (Throwable e) {
                        thrown[rank] = e;
                    }
                });
                t[r].start();
            }
            for (Thread x : t) x.join(60_000);
        }
        for (Throwable e : thrown) if (e != null) throw new AssertionError(e);
        String cut = "x".repeat(MultiProcessCheckpointer.REASON_CHARS - 3) + "...";
        String want = "trainer 0: " + a + "; trainer 2: " + b + "; trainer 3: " + cut;
        for (String s : got) assertEquals(want, s, "every UTF-16 unit, surrogates included, on every trainer");
    }

    @Test
    void aCutNeverSplitsASurrogatePair() {
        String s = "y".repeat(MultiProcessCheckpointer.REASON_CHARS - 4) + "\uD83D\uDE00" + "z".repeat(10);
        String cut = MultiProcessCheckpointer.cut(s);
        assertTrue(cut.endsWith("y..."), cut);
        assertEquals("", MultiProcessCheckpointer.cut(""));
    }
}
