package io.shadowsync.net;

import io.shadowsync.net.rdv.Role;
import java.util.Locale;
import java.util.Map;

/**
 * What one process of a multi-process job is — trainer or parameter server, its rank (or shard), the job's trainers
 * and servers, the coordinator's address — from its command line and, for what that leaves out, its environment, so
 * that a launcher (a Kubernetes indexed Job, torchrun, a batch system) can start every process with one command line.
 *
 * <p>Each value is taken from the first source that has it; a blank variable counts as unset:
 * <ul>
 *   <li>role: the command ({@code trainer}, {@code ps}), else {@code SHADOWSYNC_ROLE} ({@code trainer} or {@code ps}),
 *       else none: the process's index is then counted across the whole job (below);</li>
 *   <li>index: {@code --rank}/{@code --shard}, else {@code SHADOWSYNC_RANK}, else torchrun's {@code RANK}, else a
 *       Kubernetes indexed Job's {@code JOB_COMPLETION_INDEX};</li>
 *   <li>trainers: {@code --trainers} (or the job file), else {@code SHADOWSYNC_TRAINERS}, else {@code WORLD_SIZE}
 *       (below), else the default, 1;</li>
 *   <li>parameter servers: {@code --ps-shards} (or the job file), else {@code SHADOWSYNC_PS_SHARDS}, else
 *       {@code WORLD_SIZE} for a process whose role is {@code ps}, else the default, 1;</li>
 *   <li>coordinator: {@code --coordinator}, else {@code SHADOWSYNC_COORDINATOR} ({@code HOST:PORT}), else torchrun's
 *       {@code MASTER_ADDR} and {@code MASTER_PORT} (both). Trainer 0 runs the coordinator itself when its address
 *       comes from the environment;</li>
 *   <li>advertised address: {@code --advertise}, else {@code SHADOWSYNC_ADVERTISE}, used only when the process listens
 *       on a wildcard address (0.0.0.0, ::), where it needs one.</li>
 * </ul>
 *
 * <p>The index counts within the role when the role is known. With none, one index numbers the whole job, the
 * trainers first: 0 .. T−1 are trainers 0 .. T−1 (so index 0, the host torchrun's {@code MASTER_ADDR} and a Kubernetes
 * Job's first pod name, is trainer 0, which runs the coordinator), T .. T+S−1 are parameter servers 0 .. S−1.
 * {@code WORLD_SIZE}, when the index comes from the environment, is the number of processes that index counts: the
 * whole job's (T + S) without a role, else the role's; it fills in that count when nothing else gives it, and must
 * agree with it otherwise. With an index given on the command line it is not read.
 *
 * <p>Every wrong or conflicting value is an {@link IllegalArgumentException} whose one-line message names the flag or
 * variable it came from.
 */
public final class ProcessEnv {
    public static final String ROLE = "SHADOWSYNC_ROLE";
    public static final String RANK = "SHADOWSYNC_RANK";
    public static final String TRAINERS = "SHADOWSYNC_TRAINERS";
    public static final String PS_SHARDS = "SHADOWSYNC_PS_SHARDS";
    public static final String COORDINATOR = "SHADOWSYNC_COORDINATOR";
    public static final String ADVERTISE = "SHADOWSYNC_ADVERTISE";
    public static final String TORCH_RANK = "RANK";
    public static final String TORCH_WORLD_SIZE = "WORLD_SIZE";
    public static final String TORCH_MASTER_ADDR = "MASTER_ADDR";
    public static final String TORCH_MASTER_PORT = "MASTER_PORT";
    public static final String K8S_INDEX = "JOB_COMPLETION_INDEX";

    private ProcessEnv() {}

    /**
     * What the command line said; null for what it did not give.
     *
     * @param role         the command's role ({@code trainer}, {@code ps}), or null for a command that takes it from
     *                     the environment
     * @param indexFlag    the flag the index is given with ({@code --rank}, {@code --shard}), for messages
     * @param index        its value, or null
     * @param trainers     {@code --trainers} (or the job file's), or null
     * @param psShards     {@code --ps-shards} (or the job file's), or null
     * @param coordinator  {@code --coordinator}, or null
     * @param advertise    {@code --advertise}, or null
     * @param listenHost   the host this process's server listens on
     */
    public record Flags(Role role, String indexFlag, Integer index, Integer trainers, Integer psShards, String coordinator,
                        String advertise, String listenHost) {}

    /**
     * The process, resolved.
     *
     * @param role             trainer or parameter server
     * @param index            its rank among the trainers, or its shard among the servers
     * @param trainers         the job's trainers
     * @param psShards         the job's parameter servers
     * @param coordinator      the coordinator's HOST:PORT, or null for none (static --peers/--servers lists)
     * @param startCoordinator whether this process runs the coordinator: trainer 0, when the address came from the environment
     * @param advertise        the address other processes reach this one at, or null for the --listen host
     * @param from             where the role and index came from, for a log line ("SHADOWSYNC_RANK=3", "--rank 1")
     */
    public record Resolved(Role role, int index, int trainers, int psShards, String coordinator, boolean startCoordinator,
                           String advertise, String from) {}

    /** Resolves one process from its flags and environment; see the class comment for the rules. */
    public static Resolved resolve(Map<String, String> env, Flags flags) {
        // the index and what numbers it
        String indexFrom;
        int rawIndex;
        boolean indexFromEnv;
        if (flags.index() != null) {
            indexFrom = flags.indexFlag();
            rawIndex = flags.index();
            indexFromEnv = false;
        } else {
            indexFrom = firstSet(env, RANK, TORCH_RANK, K8S_INDEX);
            if (indexFrom == null) {
                throw new IllegalArgumentException("no rank for this process: " + (flags.indexFlag() != null ? "give " + flags.indexFlag() + " I, or " : "")
                        + "set " + RANK + " (or torchrun's " + TORCH_RANK + ", or a Kubernetes indexed Job's " + K8S_INDEX + ")");
            }
            rawIndex = nonNegative(env, indexFrom);
            indexFromEnv = true;
        }
        if (rawIndex < 0) throw new IllegalArgumentException(flags.indexFlag() + " " + rawIndex + " is negative");

        // the role: the command's, else SHADOWSYNC_ROLE; checked against each other when the index is the environment's
        Role role = flags.role();
        String envRole = value(env, ROLE);
        if (envRole != null && (role == null || indexFromEnv)) {
            Role r = switch (envRole.strip().toLowerCase(Locale.ROOT)) {
                case "trainer" -> Role.TRAINER;
                case "ps" -> Role.PS;
                default -> throw new IllegalArgumentException(ROLE + "=" + envRole + " is not a role: trainer or ps");
            };
            if (role != null && r != role) {
                throw new IllegalArgumentException(ROLE + "=" + envRole + " but this is 'shadowsync " + role.label() + "': run 'shadowsync node' "
                        + "(the role from the environment), or set " + ROLE + "=" + role.label());
            }
            role = r;
        }

        // the counts
        String worldFrom = indexFromEnv && value(env, TORCH_WORLD_SIZE) != null ? TORCH_WORLD_SIZE : null;
        int world = worldFrom == null ? -1 : positive(env, worldFrom);
        Integer ps = flags.psShards() != null ? flags.psShards() : value(env, PS_SHARDS) != null ? positive(env, PS_SHARDS) : null;
        Integer trainers = flags.trainers() != null ? flags.trainers() : value(env, TRAINERS) != null ? positive(env, TRAINERS) : null;
        String psFrom = flags.psShards() != null ? "--ps-shards " + ps : ps != null ? PS_SHARDS + "=" + ps : null;
        String trainersFrom = flags.trainers() != null ? "--trainers " + trainers : trainers != null ? TRAINERS + "=" + trainers : null;
        if (world > 0 && role == Role.PS) {
            if (ps == null) ps = world;
            else if (ps != world) throw disagree(worldFrom, world, "parameter servers", psFrom);
        }
        if (ps == null) ps = 1;
        if (world > 0 && role == Role.TRAINER) {
            if (trainers == null) trainers = world;
            else if (trainers != world) throw disagree(worldFrom, world, "trainers", trainersFrom);
        }
        if (world > 0 && role == null) {
            if (trainers == null) {
                if (world <= ps) {
                    throw new IllegalArgumentException(worldFrom + "=" + world + " leaves no trainers: it counts every process of the job, "
                            + ps + " parameter server(s) (" + (psFrom == null ? "the default" : psFrom) + ") and the trainers");
                }
                trainers = world - ps;
            } else if (trainers + ps != world) {
                throw new IllegalArgumentException(worldFrom + "=" + world + " disagrees with " + trainers + " trainers (" + trainersFrom + ") and "
                        + ps + " parameter server(s) (" + (psFrom == null ? "the default" : psFrom) + "): without " + ROLE
                        + " it counts every process of the job");
            }
        }
        if (trainers == null) trainers = 1;

        // the role and index
        int index = rawIndex;
        String from = indexFromEnv ? indexFrom + "=" + rawIndex : indexFrom + " " + rawIndex;
        if (role == null) {
            if (rawIndex >= trainers + ps) {
                throw new IllegalArgumentException(from + " is not in the job: without " + ROLE + " it numbers its " + trainers + " trainer(s), then its "
                        + ps + " parameter server(s), 0.." + (trainers + ps - 1));
            }
            role = rawIndex < trainers ? Role.TRAINER : Role.PS;
            index = rawIndex < trainers ? rawIndex : rawIndex - trainers;
        } else {
            int count = role == Role.TRAINER ? trainers : ps;
            if (rawIndex >= count) {
                throw new IllegalArgumentException(from + " is not in 0.." + (count - 1) + ": the job has " + count + " "
                        + (role == Role.TRAINER ? "trainer(s)" : "parameter server(s)"));
            }
        }

        // the coordinator
        String coordinator = flags.coordinator();
        boolean fromEnv = false;
        if (coordinator == null) {
            String c = value(env, COORDINATOR);
            String addr = value(env, TORCH_MASTER_ADDR), port = value(env, TORCH_MASTER_PORT);
            if (c != null) {
                coordinator = checkAddress(COORDINATOR, c);
                fromEnv = true;
            } else if (addr != null || port != null) {
                if (addr == null || port == null) {
                    throw new IllegalArgumentException((addr == null ? TORCH_MASTER_PORT : TORCH_MASTER_ADDR) + " is set but "
                            + (addr == null ? TORCH_MASTER_ADDR : TORCH_MASTER_PORT) + " is not: the coordinator needs both");
                }
                String host = addr.strip();
                if (host.indexOf(':') >= 0 && !host.startsWith("[")) host = "[" + host + "]";
                coordinator = checkAddress(TORCH_MASTER_ADDR + "/" + TORCH_MASTER_PORT, host + ":" + port.strip());
                fromEnv = true;
            }
        }
        boolean start = fromEnv && role == Role.TRAINER && index == 0;

        // the advertised address, where listening on a wildcard needs one
        String advertise = flags.advertise();
        String lh = flags.listenHost();
        if (advertise == null && value(env, ADVERTISE) != null && lh != null && (lh.equals("0.0.0.0") || lh.equals("::"))) {
            advertise = value(env, ADVERTISE).strip();
        }
        return new Resolved(role, index, trainers, ps, coordinator, start, advertise, from);
    }

    private static IllegalArgumentException disagree(String worldFrom, int world, String what, String from) {
        return new IllegalArgumentException(worldFrom + "=" + world + " disagrees with " + from + ": it counts the job's " + what);
    }

    private static String checkAddress(String name, String value) {
        try {
            return HostPort.parse(value).toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + "=" + value + ": " + e.getMessage());
        }
    }

    /** The first of these variables that is set (not blank), or null. */
    private static String firstSet(Map<String, String> env, String... names) {
        for (String n : names) if (value(env, n) != null) return n;
        return null;
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v;
    }

    private static int nonNegative(Map<String, String> env, String name) {
        int v = integer(env, name);
        if (v < 0) throw new IllegalArgumentException(name + "=" + env.get(name) + " is negative");
        return v;
    }

    private static int positive(Map<String, String> env, String name) {
        int v = integer(env, name);
        if (v < 1) throw new IllegalArgumentException(name + "=" + env.get(name) + " must be at least 1");
        return v;
    }

    private static int integer(Map<String, String> env, String name) {
        String v = env.get(name);
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + v + " is not a whole number");
        }
    }
}
