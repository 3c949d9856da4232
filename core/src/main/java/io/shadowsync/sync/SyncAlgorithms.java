package io.shadowsync.sync;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registry of synchronization algorithms: every {@code --sync} name, and the only place that knows them. The
 * engine, the clusters, the checkpoints and the CLI ask a name's {@link AlgorithmDescriptor} what it needs and how to
 * build it; the test suites iterate {@link #all()}, so an algorithm registered here is trained, checkpointed and
 * stopped by them the day it is added.
 *
 * <p>Built in: {@code none}; model averaging ({@code ma}), BMUF ({@code bmuf}), EASGD ({@code easgd}) and gossip ({@code gossip}), each in its
 * shadow ({@code s-}) and foreground ({@code fr-}) form; {@code sync-sgd}; {@code async-ps}. To add a round algorithm:
 * write its {@link SyncAlgorithm} and a {@link RoundAlgorithm} that describes it, then call {@link #register} before
 * building a job, or list the {@link RoundAlgorithm} class in {@code META-INF/services/io.shadowsync.sync.RoundAlgorithm}
 * (read once, when this class loads).
 */
public final class SyncAlgorithms {
    /** The algorithm of independent trainers. */
    public static final String NONE = "none";

    private static final Map<String, AlgorithmDescriptor> BY_NAME = new LinkedHashMap<>();

    static {
        step(NONE, SyncSpec.Mode.NONE, "no synchronization, independent trainers (the final model is trainer 0's)");
        register(new ModelAveragingDefinition());
        register(new BlockMomentumDefinition());
        register(new ElasticAveragingDefinition());
        register(new GossipDefinition());
        step("sync-sgd", SyncSpec.Mode.SYNC_SGD, "synchronous SGD: gradients averaged over all workers every step");
        step("async-ps", SyncSpec.Mode.ASYNC_PS, "asynchronous SGD, dense parameters on the parameter server");
        for (RoundAlgorithm a : ServiceLoader.load(RoundAlgorithm.class, SyncAlgorithms.class.getClassLoader())) register(a);
    }

    private SyncAlgorithms() {}

    private static void step(String name, SyncSpec.Mode mode, String summary) {
        add(new AlgorithmDescriptor(name, mode, null, summary));
    }

    /**
     * Registers a round algorithm under its two names, {@code s-NAME} and {@code fr-NAME}.
     *
     * @throws IllegalArgumentException when its name is not lower-case letters and digits, or either name is taken
     */
    public static synchronized void register(RoundAlgorithm algorithm) {
        String base = algorithm.name();
        if (base == null || !base.matches("[a-z][a-z0-9]*")) {
            throw new IllegalArgumentException("a sync algorithm's name is lower-case letters and digits, got '" + base + "'");
        }
        for (String n : List.of("s-" + base, "fr-" + base)) {
            if (BY_NAME.containsKey(n)) throw new IllegalArgumentException("sync algorithm '" + n + "' is already registered");
        }
        add(new AlgorithmDescriptor("s-" + base, SyncSpec.Mode.SHADOW, algorithm, algorithm.summary() + " in the shadow (background)"));
        add(new AlgorithmDescriptor("fr-" + base, SyncSpec.Mode.FOREGROUND, algorithm, algorithm.summary() + " in the foreground"));
    }

    private static synchronized void add(AlgorithmDescriptor d) {
        BY_NAME.put(d.name(), d);
    }

    /** Every algorithm: none, the shadow forms, the foreground forms, synchronous SGD, asynchronous SGD (registration order within each). */
    public static synchronized List<AlgorithmDescriptor> all() {
        List<AlgorithmDescriptor> out = new ArrayList<>(BY_NAME.values());
        out.sort(Comparator.comparing(AlgorithmDescriptor::mode)); // stable: registration order within a mode
        return List.copyOf(out);
    }

    /** Every {@code --sync} name, in the order of {@link #all()}. */
    public static List<String> names() {
        return all().stream().map(AlgorithmDescriptor::name).toList();
    }

    /**
     * The descriptor of a name (any case).
     *
     * @throws IllegalArgumentException naming the valid ones, for an unknown name
     */
    public static synchronized AlgorithmDescriptor get(String name) {
        AlgorithmDescriptor d = name == null ? null : BY_NAME.get(name.toLowerCase(Locale.ROOT));
        if (d == null) throw new IllegalArgumentException("unknown sync algorithm '" + name + "' (valid: " + String.join(", ", names()) + ")");
        return d;
    }

    /** The algorithm a job runs when none is given: model averaging in the shadow for several trainers, none for one. */
    public static String defaultFor(int trainers) {
        return trainers > 1 ? "s-" + ModelAveragingDefinition.NAME : NONE;
    }

    /** A round algorithm whose rounds every trainer takes in lockstep over the trainer group, and which admits newcomers. */
    abstract static class InLockstep implements RoundAlgorithm {
        @Override
        public final boolean collective() {
            return true;
        }

        @Override
        public final boolean joinable() {
            return true;
        }
    }

    /** Model averaging, {@link ModelAveraging}. */
    static final class ModelAveragingDefinition extends InLockstep {
        static final String NAME = "ma";

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String summary() {
            return "model averaging";
        }

        @Override
        public SyncAlgorithm create(SyncContext ctx) {
            return new ModelAveraging(ctx.trainerGroup(), ctx.size());
        }

        @Override
        public int stateFloats(int trainers) {
            return 2; // snapshot, sum
        }
    }

    /** BMUF, {@link BlockMomentum}. */
    static final class BlockMomentumDefinition extends InLockstep {
        @Override
        public String name() {
            return "bmuf";
        }

        @Override
        public String summary() {
            return "BMUF (block momentum)";
        }

        @Override
        public SyncAlgorithm create(SyncContext ctx) {
            SyncSpec s = ctx.spec();
            return new BlockMomentum(ctx.trainerGroup(), ctx.initial(), s.momentumFor(ctx.trainers()), s.bmufBlockLr(), s.nesterov());
        }

        /** Alone, BMUF with momentum still filters the trainer's own progress; without, it is model averaging. */
        @Override
        public boolean idleAlone(SyncSpec spec) {
            return spec.momentumFor(1) == 0;
        }

        @Override
        public Map<String, String> settings(SyncSpec s, int trainers) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("bmuf-momentum", Double.toString(s.momentumFor(trainers)));
            m.put("bmuf-block-lr", Double.toString(s.bmufBlockLr()));
            m.put("nesterov", Boolean.toString(s.nesterov()));
            return m;
        }

        @Override
        public int stateFloats(int trainers) {
            return 4; // snapshot, sum, global model, block momentum
        }
    }

    /** EASGD, {@link ElasticAveraging}, against a center on the dense server. */
    static final class ElasticAveragingDefinition implements RoundAlgorithm {
        @Override
        public String name() {
            return "easgd";
        }

        @Override
        public String summary() {
            return "elastic averaging (EASGD) against a center on the parameter server";
        }

        @Override
        public boolean collective() {
            return false;
        }

        @Override
        public boolean center() {
            return true;
        }

        @Override
        public SyncAlgorithm create(SyncContext ctx) {
            return new ElasticAveraging(ctx.center(), ctx.size(), ctx.spec().alphaFor(ctx.trainers()), ctx.codec(), ctx.initial(), ctx.trainers());
        }

        @Override
        public Map<String, String> settings(SyncSpec s, int trainers) {
            return Map.of("easgd-alpha", Double.toString(s.alphaFor(trainers)));
        }

        @Override
        public int stateFloats(int trainers) {
            return 4; // snapshot, center, push; under a lossy codec the share
        }
    }

    /**
     * Gossip, {@link Gossip}: averaging with one peer per round, over the trainer group's pairwise exchange (a call of
     * the whole group: every member enters every round).
     */
    static final class GossipDefinition extends InLockstep {
        @Override
        public String name() {
            return "gossip";
        }

        @Override
        public String summary() {
            return "gossip: averaging with one peer per round (--gossip-schedule), one global average at the end";
        }

        @Override
        public SyncAlgorithm create(SyncContext ctx) {
            return new Gossip(ctx.trainerGroup(), ctx.size(), ctx.spec().gossipSchedule(), ctx.seed());
        }

        @Override
        public boolean pairwise() {
            return true;
        }

        @Override
        public Map<String, String> settings(SyncSpec s, int trainers) {
            return Map.of("gossip-schedule", s.gossipSchedule().key());
        }

        @Override
        public int stateFloats(int trainers) {
            return 2; // snapshot, the peer's replica
        }
    }
}
