package io.shadowsync.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.net.ProcessEnv.Flags;
import io.shadowsync.net.ProcessEnv.Resolved;
import io.shadowsync.net.rdv.Role;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Role, rank, counts and coordinator from flags and the environment: every source, the precedence, every error. */
class ProcessEnvTest {
    /** 'shadowsync node': no role, no index, no counts, no coordinator on the command line. */
    private static final Flags NODE = new Flags(null, null, null, null, null, null, null, "127.0.0.1");

    private static Flags trainer(Integer rank) {
        return new Flags(Role.TRAINER, "--rank", rank, null, null, null, null, "127.0.0.1");
    }

    private static Flags ps(Integer shard) {
        return new Flags(Role.PS, "--shard", shard, null, null, null, null, "127.0.0.1");
    }

    private static Flags withCounts(Flags f, Integer trainers, Integer psShards) {
        return new Flags(f.role(), f.indexFlag(), f.index(), trainers, psShards, f.coordinator(), f.advertise(), f.listenHost());
    }

    private static String error(Map<String, String> env, Flags flags) {
        return assertThrows(IllegalArgumentException.class, () -> ProcessEnv.resolve(env, flags)).getMessage();
    }

    @Test
    void withoutARoleOneIndexNumbersTheTrainersFirstThenTheServers() {
        Flags f = withCounts(NODE, 2, 2);
        String[] expect = {"TRAINER 0", "TRAINER 1", "PS 0", "PS 1"};
        for (int i = 0; i < 4; i++) {
            Resolved r = ProcessEnv.resolve(Map.of("JOB_COMPLETION_INDEX", Integer.toString(i)), f);
            assertEquals(expect[i], r.role() + " " + r.index());
            assertEquals(2, r.trainers());
            assertEquals(2, r.psShards());
        }
        String e = error(Map.of("JOB_COMPLETION_INDEX", "4"), f);
        assertTrue(e.startsWith("JOB_COMPLETION_INDEX=4 is not in the job"), e);
        assertTrue(e.contains("0..3"), e);
    }

    @Test
    void theCountsComeFromTheEnvironmentWhenNoFlagGivesThem() {
        Resolved r = ProcessEnv.resolve(Map.of("SHADOWSYNC_RANK", "3", "SHADOWSYNC_TRAINERS", "3", "SHADOWSYNC_PS_SHARDS", "2"), NODE);
        assertEquals(Role.PS, r.role());
        assertEquals(0, r.index());
        assertEquals(3, r.trainers());
        assertEquals(2, r.psShards());
        // and the flags (or the job file) win over them
        Resolved f = ProcessEnv.resolve(Map.of("SHADOWSYNC_RANK", "3", "SHADOWSYNC_TRAINERS", "3", "SHADOWSYNC_PS_SHARDS", "2"), withCounts(NODE, 4, 1));
        assertEquals(Role.TRAINER, f.role());
        assertEquals(3, f.index());
        assertEquals(4, f.trainers());
        assertEquals(1, f.psShards());
        // neither: one of each
        Resolved d = ProcessEnv.resolve(Map.of("RANK", "1"), NODE);
        assertEquals(Role.PS, d.role());
        assertEquals(1, d.trainers());
        assertEquals(1, d.psShards());
    }

    @Test
    void theRankVariablesArePreferredInOrderAndAFlagWinsOverAll() {
        Map<String, String> all = Map.of("SHADOWSYNC_RANK", "2", "RANK", "1", "JOB_COMPLETION_INDEX", "0", "SHADOWSYNC_TRAINERS", "3");
        assertEquals(2, ProcessEnv.resolve(all, trainer(null)).index());
        assertEquals("SHADOWSYNC_RANK=2", ProcessEnv.resolve(all, trainer(null)).from());
        assertEquals(1, ProcessEnv.resolve(Map.of("RANK", "1", "JOB_COMPLETION_INDEX", "0", "SHADOWSYNC_TRAINERS", "3"), trainer(null)).index());
        assertEquals(0, ProcessEnv.resolve(Map.of("JOB_COMPLETION_INDEX", "0", "SHADOWSYNC_TRAINERS", "3"), trainer(null)).index());
        Resolved flag = ProcessEnv.resolve(all, trainer(0));
        assertEquals(0, flag.index());
        assertEquals("--rank 0", flag.from());
        // a blank variable is unset
        assertEquals(1, ProcessEnv.resolve(Map.of("SHADOWSYNC_RANK", " ", "RANK", "1", "SHADOWSYNC_TRAINERS", "3"), trainer(null)).index());
    }

    @Test
    void withARoleTheIndexCountsWithinIt() {
        Resolved t = ProcessEnv.resolve(Map.of("SHADOWSYNC_ROLE", "trainer", "JOB_COMPLETION_INDEX", "1", "SHADOWSYNC_TRAINERS", "2", "SHADOWSYNC_PS_SHARDS", "3"), NODE);
        assertEquals(Role.TRAINER, t.role());
        assertEquals(1, t.index());
        Resolved p = ProcessEnv.resolve(Map.of("SHADOWSYNC_ROLE", "PS", "JOB_COMPLETION_INDEX", "1", "SHADOWSYNC_TRAINERS", "2", "SHADOWSYNC_PS_SHARDS", "3"), NODE);
        assertEquals(Role.PS, p.role());
        assertEquals(1, p.index());
        String e = error(Map.of("SHADOWSYNC_ROLE", "ps", "JOB_COMPLETION_INDEX", "3", "SHADOWSYNC_PS_SHARDS", "3"), NODE);
        assertEquals("JOB_COMPLETION_INDEX=3 is not in 0..2: the job has 3 parameter server(s)", e);
        e = error(Map.of("SHADOWSYNC_ROLE", "trainer", "RANK", "2", "SHADOWSYNC_TRAINERS", "2"), NODE);
        assertEquals("RANK=2 is not in 0..1: the job has 2 trainer(s)", e);
        e = error(Map.of("SHADOWSYNC_ROLE", "worker", "RANK", "0"), NODE);
        assertEquals("SHADOWSYNC_ROLE=worker is not a role: trainer or ps", e);
    }

    @Test
    void aRoleFromTheEnvironmentThatContradictsTheCommandIsRefusedUnlessTheIndexIsAFlag() {
        String e = error(Map.of("SHADOWSYNC_ROLE", "ps", "SHADOWSYNC_RANK", "0"), trainer(null));
        assertTrue(e.startsWith("SHADOWSYNC_ROLE=ps but this is 'shadowsync trainer'"), e);
        // launch's children are told --rank/--shard: an inherited SHADOWSYNC_ROLE does not concern them
        assertEquals(Role.PS, ProcessEnv.resolve(Map.of("SHADOWSYNC_ROLE", "trainer"), ps(0)).role());
    }

    @Test
    void worldSizeCountsTheProcessesTheIndexNumbers() {
        // no role: every process of the job, so the trainers are WORLD_SIZE - servers
        Resolved r = ProcessEnv.resolve(Map.of("RANK", "4", "WORLD_SIZE", "5", "SHADOWSYNC_PS_SHARDS", "2"), NODE);
        assertEquals(3, r.trainers());
        assertEquals(Role.PS, r.role());
        assertEquals(1, r.index());
        // a trainer's: the trainers; a server's: the servers
        assertEquals(4, ProcessEnv.resolve(Map.of("RANK", "3", "WORLD_SIZE", "4"), trainer(null)).trainers());
        assertEquals(3, ProcessEnv.resolve(Map.of("RANK", "2", "WORLD_SIZE", "3"), ps(null)).psShards());
        // disagreements
        String e = error(Map.of("RANK", "0", "WORLD_SIZE", "4", "SHADOWSYNC_TRAINERS", "2", "SHADOWSYNC_PS_SHARDS", "1"), NODE);
        assertTrue(e.startsWith("WORLD_SIZE=4 disagrees with 2 trainers (SHADOWSYNC_TRAINERS=2) and 1 parameter server(s) (SHADOWSYNC_PS_SHARDS=1)"), e);
        e = error(Map.of("RANK", "0", "WORLD_SIZE", "4"), withCounts(trainer(null), 2, null));
        assertEquals("WORLD_SIZE=4 disagrees with --trainers 2: it counts the job's trainers", e);
        e = error(Map.of("RANK", "0", "WORLD_SIZE", "2", "SHADOWSYNC_PS_SHARDS", "2"), NODE);
        assertTrue(e.startsWith("WORLD_SIZE=2 leaves no trainers"), e);
        // with the index on the command line, WORLD_SIZE is not read
        assertEquals(2, ProcessEnv.resolve(Map.of("WORLD_SIZE", "7"), withCounts(trainer(1), 2, null)).trainers());
    }

    @Test
    void badNumbersAreRefusedNamingTheVariable() {
        assertEquals("SHADOWSYNC_RANK=one is not a whole number", error(Map.of("SHADOWSYNC_RANK", "one"), NODE));
        assertEquals("RANK=-1 is negative", error(Map.of("RANK", "-1"), NODE));
        assertEquals("SHADOWSYNC_TRAINERS=0 must be at least 1", error(Map.of("RANK", "0", "SHADOWSYNC_TRAINERS", "0"), NODE));
        assertEquals("SHADOWSYNC_PS_SHARDS=2.5 is not a whole number", error(Map.of("RANK", "0", "SHADOWSYNC_PS_SHARDS", "2.5"), NODE));
        assertEquals("WORLD_SIZE=x is not a whole number", error(Map.of("RANK", "0", "WORLD_SIZE", "x"), NODE));
        String e = error(Map.of(), NODE);
        assertTrue(e.startsWith("no rank for this process: set SHADOWSYNC_RANK"), e);
        e = error(Map.of(), trainer(null));
        assertTrue(e.startsWith("no rank for this process: give --rank I, or set SHADOWSYNC_RANK"), e);
        assertTrue(e.contains("JOB_COMPLETION_INDEX"), e);
    }

    @Test
    void theCoordinatorComesFromTheFlagThenShadowsyncCoordinatorThenMasterAddrAndPort() {
        Map<String, String> both = Map.of("RANK", "0", "SHADOWSYNC_COORDINATOR", "coord:7000", "MASTER_ADDR", "master", "MASTER_PORT", "29500");
        assertEquals("coord:7000", ProcessEnv.resolve(both, trainer(null)).coordinator());
        Resolved torch = ProcessEnv.resolve(Map.of("RANK", "0", "MASTER_ADDR", "master", "MASTER_PORT", "29500"), trainer(null));
        assertEquals("master:29500", torch.coordinator());
        assertTrue(torch.startCoordinator(), "trainer 0 runs the coordinator whose address the environment gives");
        assertEquals("[fd00::1]:29500", ProcessEnv.resolve(Map.of("RANK", "0", "MASTER_ADDR", "fd00::1", "MASTER_PORT", "29500"), trainer(null)).coordinator());
        Flags flag = new Flags(Role.TRAINER, "--rank", null, null, null, "given:1234", null, "127.0.0.1");
        Resolved f = ProcessEnv.resolve(both, flag);
        assertEquals("given:1234", f.coordinator());
        assertFalse(f.startCoordinator(), "with --coordinator, --start-coordinator says who runs it");
        // only trainer 0 runs it
        Map<String, String> two = Map.of("RANK", "1", "SHADOWSYNC_TRAINERS", "2", "SHADOWSYNC_COORDINATOR", "coord:7000");
        assertFalse(ProcessEnv.resolve(two, trainer(null)).startCoordinator());
        assertFalse(ProcessEnv.resolve(Map.of("RANK", "1", "SHADOWSYNC_COORDINATOR", "coord:7000"), NODE).startCoordinator()); // ps 0
        assertNull(ProcessEnv.resolve(Map.of("RANK", "0"), trainer(null)).coordinator());
    }

    @Test
    void aCoordinatorWithoutAPortOrHalfOfTorchrunsPairIsRefused() {
        String e = error(Map.of("RANK", "0", "SHADOWSYNC_COORDINATOR", "coord"), NODE);
        assertEquals("SHADOWSYNC_COORDINATOR=coord: address 'coord' is not host:port", e);
        e = error(Map.of("RANK", "0", "SHADOWSYNC_COORDINATOR", "coord:99999"), NODE);
        assertTrue(e.startsWith("SHADOWSYNC_COORDINATOR=coord:99999: ") && e.contains("not in 1..65535"), e);
        assertEquals("MASTER_ADDR is set but MASTER_PORT is not: the coordinator needs both", error(Map.of("RANK", "0", "MASTER_ADDR", "m"), NODE));
        assertEquals("MASTER_PORT is set but MASTER_ADDR is not: the coordinator needs both", error(Map.of("RANK", "0", "MASTER_PORT", "1"), NODE));
        e = error(Map.of("RANK", "0", "MASTER_ADDR", "m", "MASTER_PORT", "http"), NODE);
        assertTrue(e.startsWith("MASTER_ADDR/MASTER_PORT=m:http: ") && e.contains("not a number"), e);
    }

    @Test
    void theAdvertisedAddressComesFromTheEnvironmentOnlyWhereAWildcardListenNeedsOne() {
        Map<String, String> env = Map.of("RANK", "0", "SHADOWSYNC_ADVERTISE", "10.0.0.7");
        assertEquals("10.0.0.7", ProcessEnv.resolve(env, new Flags(null, null, null, null, null, null, null, "0.0.0.0")).advertise());
        assertNull(ProcessEnv.resolve(env, NODE).advertise(), "a process listening on 127.0.0.1 (launch's children) is reached there");
        assertEquals("me", ProcessEnv.resolve(env, new Flags(null, null, null, null, null, null, "me", "0.0.0.0")).advertise());
    }
}
