package io.shadowsync.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one simulated job on N trainers did over its measured window.
 *
 * @param algorithm         the algorithm's name
 * @param trainers          N
 * @param examplesPerSec    examples trained per second, all trainers
 * @param roundsPerSec      sync rounds per second of one trainer (trainer 0); synchronous SGD: its allreduces; 0 without rounds
 * @param stalenessRounds   rounds between an update in one replica and its appearance in another (NaN without replicas to sync)
 * @param stalenessSeconds  seconds between them
 * @param bytesPerExample   bytes sent on every link (servers, rings, centers) per example trained
 * @param cpu               the busiest host's CPU utilisation, of the cores its threads could use (min(cores, threads))
 * @param psShard           the busiest server shard's utilisation (its link or its CPU)
 * @param link              the busiest trainer link's utilisation
 * @param syncWait          the share of the workers' time spent waiting for synchronization (barriers, rounds, allreduces)
 */
public record SimResult(String algorithm, int trainers, double examplesPerSec, double roundsPerSec, double stalenessRounds,
                        double stalenessSeconds, double bytesPerExample, double cpu, double psShard, double link, double syncWait) {
    /** What limits throughput: the largest of compute, a server shard, a link and waiting for synchronization. */
    public String bottleneck() {
        String b = "compute";
        double max = cpu;
        if (psShard > max) {
            b = "ps-shard";
            max = psShard;
        }
        if (link > max) {
            b = "link";
            max = link;
        }
        if (syncWait > max) b = "sync";
        return b;
    }

    /** The result as the JSON summary's object, with the scaling efficiency against one trainer's examples/s. */
    public Map<String, Object> toMap(double oneTrainer) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("algorithm", algorithm);
        m.put("trainers", trainers);
        m.put("examples_per_sec", round(examplesPerSec, 1));
        m.put("scaling_efficiency", round(examplesPerSec / (trainers * oneTrainer), 3));
        m.put("rounds_per_sec", round(roundsPerSec, 2));
        m.put("staleness_rounds", Double.isNaN(stalenessRounds) ? null : round(stalenessRounds, 2));
        m.put("staleness_seconds", Double.isNaN(stalenessSeconds) ? null : round(stalenessSeconds, 6));
        m.put("bytes_per_example", round(bytesPerExample, 1));
        m.put("bottleneck", bottleneck());
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("cpu", round(cpu, 3));
        u.put("ps_shard", round(psShard, 3));
        u.put("link", round(link, 3));
        u.put("sync_wait", round(syncWait, 3));
        m.put("utilisation", u);
        return m;
    }

    private static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return v;
        double s = Math.pow(10, digits);
        return Math.round(v * s) / s;
    }
}
