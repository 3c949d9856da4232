package io.shadowsync.net.rdv;

import io.shadowsync.net.HostPort;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who is in a job: the address of every trainer process in trainer order and of every parameter server in shard
 * order. Every process gets the same one, from {@link Rendezvous#join} or from the command line ({@link
 * #fromStatic}, torchrun style), and derives its collectives' rank addresses from it.
 *
 * @param trainers trainer i's address (at least one); no address twice
 * @param servers  parameter server i's address (none for jobs without one); no address twice
 */
public record Membership(List<HostPort> trainers, List<HostPort> servers) {
    public Membership {
        Objects.requireNonNull(trainers, "trainer addresses");
        Objects.requireNonNull(servers, "server addresses");
        trainers = List.copyOf(trainers);
        servers = List.copyOf(servers);
        if (trainers.isEmpty()) throw new IllegalArgumentException("a job needs at least one trainer address");
        checkDistinct(trainers, Role.TRAINER);
        checkDistinct(servers, Role.PS);
    }

    /** A membership given on the command line: addresses in order. */
    public static Membership fromStatic(List<HostPort> trainers, List<HostPort> servers) {
        return new Membership(trainers, servers);
    }

    /**
     * Parses comma-separated {@code host:port} lists, e.g. {@code "10.0.0.1:7100,10.0.0.2:7100"}; the servers'
     * list may be empty or null.
     */
    public static Membership fromStatic(String trainers, String servers) {
        return new Membership(parse(trainers, "trainer"), servers == null ? List.of() : parse(servers, "ps"));
    }

    /**
     * The address of each rank of a group with {@code perTrainer} consecutive ranks in every trainer process (sync
     * SGD's N·W worker ranks): rank r lives in trainer r / perTrainer. With 1, the trainers' list itself.
     */
    public List<HostPort> ranks(int perTrainer) {
        if (perTrainer < 1) throw new IllegalArgumentException("ranks per trainer must be at least 1, got " + perTrainer);
        List<HostPort> out = new ArrayList<>(trainers.size() * perTrainer);
        for (HostPort t : trainers) for (int w = 0; w < perTrainer; w++) out.add(t);
        return List.copyOf(out);
    }

    private static List<HostPort> parse(String csv, String role) {
        List<HostPort> out = new ArrayList<>();
        if (csv == null || csv.isBlank()) return out;
        String[] parts = csv.split(",");
        for (int i = 0; i < parts.length; i++) {
            try {
                out.add(HostPort.parse(parts[i]));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(role + " " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static void checkDistinct(List<HostPort> addresses, Role role) {
        Map<HostPort, Integer> seen = new HashMap<>();
        for (int i = 0; i < addresses.size(); i++) {
            Integer before = seen.putIfAbsent(Objects.requireNonNull(addresses.get(i), role.label() + " " + i), i);
            if (before != null) {
                throw new IllegalArgumentException(role.label() + " " + before + " and " + role.label() + " " + i
                        + " are both at " + addresses.get(i) + ": each is its own process with its own port");
            }
        }
    }
}
