package io.shadowsync.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The registry: what each built-in algorithm declares, registration, the one-trainer note. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SyncAlgorithmsTest {
    static final List<String> BUILT_IN = List.of("none", "s-ma", "s-bmuf", "s-easgd", "s-gossip", "fr-ma", "fr-bmuf", "fr-easgd", "fr-gossip",
            "sync-sgd", "async-ps");

    @Test
    void theBuiltInNamesKeepTheirOrder() {
        List<String> names = SyncAlgorithms.names();
        List<String> builtIn = new ArrayList<>(names);
        builtIn.removeIf(n -> !BUILT_IN.contains(n));
        assertEquals(BUILT_IN, builtIn);
        assertEquals(SyncSpec.Mode.FOREGROUND, SyncAlgorithms.get("FR-GOSSIP").mode());
    }

    /** What the engine and the clusters used to derive from the names, now declared: unchanged for the built-in ones. */
    @Test
    void builtInDescriptorsDeclareWhatTheyNeed() {
        // name: trainer group, worker group, dense server, server optimizer, joinable
        Map<String, boolean[]> expected = Map.ofEntries(
                Map.entry("none", new boolean[] {false, false, false, false, false}),
                Map.entry("s-ma", new boolean[] {true, false, false, false, true}),
                Map.entry("fr-ma", new boolean[] {true, false, false, false, true}),
                Map.entry("s-bmuf", new boolean[] {true, false, false, false, true}),
                Map.entry("fr-bmuf", new boolean[] {true, false, false, false, true}),
                Map.entry("s-easgd", new boolean[] {false, false, true, false, false}),
                Map.entry("s-gossip", new boolean[] {true, false, false, false, true}),
                Map.entry("fr-gossip", new boolean[] {true, false, false, false, true}),
                Map.entry("fr-easgd", new boolean[] {false, false, true, false, false}),
                Map.entry("sync-sgd", new boolean[] {false, true, false, false, false}),
                Map.entry("async-ps", new boolean[] {false, false, true, true, false}));
        for (Map.Entry<String, boolean[]> e : expected.entrySet()) {
            AlgorithmDescriptor d = SyncAlgorithms.get(e.getKey());
            boolean[] got = {d.trainerGroup(), d.workerGroup(), d.denseServer(), d.serverOptimizer(), d.joinable()};
            assertArrayEquals(e.getValue(), got, e.getKey());
            assertEquals(d.denseServer(), d.modelOnServer(), e.getKey());
            assertEquals(d.rounds() != null, d.mode() == SyncSpec.Mode.SHADOW || d.mode() == SyncSpec.Mode.FOREGROUND, e.getKey());
        }
        assertEquals("s-ma", SyncAlgorithms.defaultFor(2));
        assertEquals("none", SyncAlgorithms.defaultFor(1));
        assertEquals("bmuf", SyncSpec.of("fr-bmuf").base());
        assertEquals("sync-sgd", SyncSpec.of("sync-sgd").base());
    }

    /** The settings a resumed checkpoint must match: exactly those the CLI recorded before the registry. */
    @Test
    void settingsAreTheOnesThatShapeTraining() {
        SyncSpec fr = new SyncSpec("fr-bmuf", 7, 0, Double.NaN, 0.9, true, Double.NaN);
        assertEquals(Map.of("sync-every", "7", "bmuf-momentum", Double.toString(0.75), "bmuf-block-lr", "0.9", "nesterov", "true"),
                fr.descriptor().settings(fr, 4));
        assertEquals(List.of("sync-every", "bmuf-momentum", "bmuf-block-lr", "nesterov"), List.copyOf(fr.descriptor().settings(fr, 4).keySet()));
        SyncSpec s = SyncSpec.of("s-easgd");
        assertEquals(Map.of("easgd-alpha", Double.toString(0.125)), s.descriptor().settings(s, 4));
        assertEquals(Map.of(), SyncSpec.of("s-ma").descriptor().settings(SyncSpec.of("s-ma"), 4));
        SyncSpec g = SyncSpec.of("fr-gossip");
        assertEquals(Map.of("sync-every", "50", "gossip-schedule", "random"), g.descriptor().settings(g, 4));
        g = g.withGossipSchedule(GossipSchedule.HYPERCUBE).withSyncCpu(0.5);
        assertEquals("hypercube", g.descriptor().settings(g, 4).get("gossip-schedule"), "the schedule survives the other withers");
        assertEquals(Map.of(), SyncSpec.of("sync-sgd").descriptor().settings(SyncSpec.of("sync-sgd"), 4));
    }

    @Test
    void unknownNamesAndTakenNamesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SyncSpec.of("s-foo"));
        assertTrue(e.getMessage().contains("unknown sync algorithm 's-foo'") && e.getMessage().contains("s-ma, s-bmuf"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SyncAlgorithms.register(new SyncAlgorithms.GossipDefinition()));
        assertTrue(e.getMessage().contains("'s-gossip' is already registered"), e.getMessage());
        RoundAlgorithm badName = new RoundAlgorithm() {
            @Override
            public String name() {
                return "s-x";
            }

            @Override
            public String summary() {
                return "a name with its prefix";
            }

            @Override
            public boolean collective() {
                return true;
            }

            @Override
            public SyncAlgorithm create(SyncContext ctx) {
                return new ModelAveraging(ctx.trainerGroup(), ctx.size());
            }

            @Override
            public int stateFloats(int trainers) {
                return 2;
            }
        };
        e = assertThrows(IllegalArgumentException.class, () -> SyncAlgorithms.register(badName));
        assertTrue(e.getMessage().contains("lower-case letters and digits"), e.getMessage());
        assertFalse(SyncAlgorithms.names().contains("s-s-x"));
    }

    /** One trainer with a collective algorithm has nobody to synchronize with: said, not silently run as none. */
    @Test
    void oneTrainerWithACollectiveAlgorithmGetsANote() {
        for (String name : List.of("s-ma", "fr-ma", "s-bmuf", "fr-bmuf", "s-gossip", "fr-gossip")) {
            SyncSpec s = SyncSpec.of(name);
            String note = s.descriptor().note(s, 1);
            assertNotNull(note, name);
            assertTrue(note.contains(name) && note.contains("nobody to synchronize with"), note);
            assertNull(s.descriptor().note(s, 2), name + " with two trainers");
        }
        assertTrue(SyncSpec.of("s-ma").descriptor().note(SyncSpec.of("s-ma"), 1).contains("no sync thread runs"));
        // BMUF with momentum still filters one trainer's progress; EASGD still pulls toward its center; the step rules have no rounds
        SyncSpec bmuf = new SyncSpec("s-bmuf", 50, 0, 0.5, 1.0, false, Double.NaN);
        assertNull(bmuf.descriptor().note(bmuf, 1));
        for (String name : List.of("s-easgd", "fr-easgd", "none", "sync-sgd", "async-ps")) {
            assertNull(SyncSpec.of(name).descriptor().note(SyncSpec.of(name), 1), name);
        }
    }
}
