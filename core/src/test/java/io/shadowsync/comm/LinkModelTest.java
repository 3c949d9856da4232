package io.shadowsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinkModelTest {
    @Test
    void parsesBitAndByteBandwidthsDecimally() {
        assertEquals(1.25e8, LinkModel.parse("1gbit", "0").bytesPerSecond(), 1e-3);
        assertEquals(1.25e9, LinkModel.parse("10gbit", "0").bytesPerSecond(), 1e-3);
        assertEquals(1.25e7, LinkModel.parse("100mbit", "0").bytesPerSecond(), 1e-6);
        assertEquals(1250, LinkModel.parse("10kbit", "0").bytesPerSecond(), 1e-9);
        assertEquals(1.5e9, LinkModel.parse("1.5gb", "0").bytesPerSecond(), 1e-3);
        assertEquals(2e6, LinkModel.parse(" 2MB ", "0").bytesPerSecond(), 1e-6);
        assertEquals(500, LinkModel.parse(".5kb", "0").bytesPerSecond(), 1e-9);
        assertEquals(Double.POSITIVE_INFINITY, LinkModel.parse("inf", "0").bytesPerSecond());
        assertEquals(Double.POSITIVE_INFINITY, LinkModel.parse("none", "0").bytesPerSecond());
    }

    @Test
    void parsesLatencies() {
        assertEquals(5e-4, LinkModel.parse("inf", "0.5ms").latencySeconds(), 1e-15);
        assertEquals(2e-4, LinkModel.parse("inf", "200us").latencySeconds(), 1e-15);
        assertEquals(1, LinkModel.parse("inf", "1s").latencySeconds(), 0);
        assertEquals(1e-8, LinkModel.parse("inf", "10NS").latencySeconds(), 1e-20);
        assertEquals(0, LinkModel.parse("inf", "0ms").latencySeconds(), 0);
        assertEquals(0, LinkModel.parse("inf", "none").latencySeconds(), 0);
        assertTrue(LinkModel.parse("none", "0").isIdeal());
        assertEquals(LinkModel.NONE, LinkModel.parse("inf", "0"));
    }

    @Test
    void refusesBadStringsNamingThemAndTheAcceptedForms() {
        for (String bad : new String[] {"fast", "1gbps", "", "-1gbit", "1e9gbit", "gbit", "1 gbit", "0gbit", "0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinkModel.parse(bad, "0"), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("kbit, mbit, gbit"), e.getMessage());
        }
        for (String bad : new String[] {"5", "1 ms", "-1ms", "1min", "soon"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinkModel.parse("inf", bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("s, ms, us or ns"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> LinkModel.parse(null, "0"));
        assertThrows(IllegalArgumentException.class, () -> LinkModel.parse("inf", null));
    }

    @Test
    void secondsAddLatencyToTransferTime() {
        LinkModel m = LinkModel.parse("1gbit", "0.5ms");
        assertEquals(0.0005 + 0.008, m.seconds(1_000_000), 1e-12);
    }
}
