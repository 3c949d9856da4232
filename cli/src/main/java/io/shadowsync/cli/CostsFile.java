package io.shadowsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.sim.Costs;
import io.shadowsync.sim.Measure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The costs file {@code calibrate} writes and {@code simulate} reads (JSON): every cost as {@code {"median": s,
 * "spread": s}} in seconds, the job's step (wall, CPU, the workers' CPU, the process's own CPU in cores and the
 * configuration it ran in, and {@code step_cv}, how a step's time varies: optional, simulate's default stragglers), with {@code calibrate --launch} the launched form's step and server CPU, the rows per step
 * and the machine (its cores). A file that lacks a field, or has a bad
 * one, is refused naming it. Format 2 (before the process's own CPU was measured apart) is still read: its step CPU
 * held the whole process's, and its process CPU is 0, the model it was calibrated for.
 */
final class CostsFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String VERSION = "shadowsync-costs/3";
    /** The format before the process's own CPU: read with none. */
    static final String VERSION_2 = "shadowsync-costs/2";

    private CostsFile() {}

    static String toJson(Costs c) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", VERSION);
        ObjectNode m = o.putObject("machine");
        m.put("cores", c.machine().cores());
        m.put("jdk", c.machine().jdk());
        m.put("os", c.machine().os());
        m.put("load_average", c.machine().loadAverage());
        m.put("when", c.machine().when());
        o.put("rows_per_step", c.rowsPerStep());
        ObjectNode st = step(o, "step", c.step().wall(), c.step().cpu(), c.step().workerCpu());
        put(st, "process_cpu_cores", c.step().processCpu());
        st.put("workers", c.step().workers());
        st.put("ps_shards", c.step().psShards());
        st.put("net_bandwidth_bytes_per_sec", Double.isInfinite(c.step().link().bytesPerSecond()) ? "inf" : Double.toString(c.step().link().bytesPerSecond()));
        st.put("net_latency_seconds", c.step().link().latencySeconds());
        if (c.step().stepCv() != null) put(st, "step_cv", c.step().stepCv());
        if (c.launch() != null) {
            ObjectNode l = step(o, "launch", c.launch().wall(), c.launch().cpu(), c.launch().workerCpu());
            put(l, "server_cpu", c.launch().serverCpu());
            l.put("ps_shards", c.launch().psShards());
        }
        put(o, "compute_step", c.computeStep());
        put(o, "pull_per_call", c.pullPerCall());
        put(o, "pull_per_row", c.pullPerRow());
        put(o, "push_per_call", c.pushPerCall());
        put(o, "push_per_row", c.pushPerRow());
        put(o, "grpc_pull_per_call", c.grpcPullPerCall());
        put(o, "grpc_pull_per_row", c.grpcPullPerRow());
        put(o, "grpc_push_per_call", c.grpcPushPerCall());
        put(o, "grpc_push_per_row", c.grpcPushPerRow());
        put(o, "ring_hop_per_float", c.ringHopPerFloat());
        put(o, "round_per_float", c.roundPerFloat());
        put(o, "apply_per_float", c.applyPerFloat());
        put(o, "wakeup", c.wakeup());
        ObjectNode enc = o.putObject("encode_per_float"), dec = o.putObject("decode_per_float");
        c.encodePerFloat().forEach((k, v) -> put(enc, k, v));
        c.decodePerFloat().forEach((k, v) -> put(dec, k, v));
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o);
    }

    /** A step's object: its wall time, CPU and the workers' CPU. */
    private static ObjectNode step(ObjectNode o, String key, Measure wall, Measure cpu, Measure workerCpu) {
        ObjectNode st = o.putObject(key);
        put(st, "wall", wall);
        put(st, "cpu", cpu);
        put(st, "worker_cpu", workerCpu);
        return st;
    }

    private static void put(ObjectNode o, String key, Measure m) {
        o.putObject(key).put("median", m.median()).put("spread", m.spread());
    }

    static Costs read(Path file) throws IOException {
        JsonNode o;
        try {
            o = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UsageException("--costs " + file + ": not JSON (" + e.getOriginalMessage() + "); write it with 'shadowsync calibrate'");
        }
        String format = o == null ? "" : o.path("format").asText();
        if (!VERSION.equals(format) && !VERSION_2.equals(format)) {
            throw new UsageException("--costs " + file + ": not a costs file of format " + VERSION + " (or " + VERSION_2 + "); write it with 'shadowsync calibrate'");
        }
        try {
            JsonNode m = field(o, "machine", file);
            Costs.Machine machine = new Costs.Machine(m.path("cores").asInt(), m.path("jdk").asText(), m.path("os").asText(),
                    m.path("load_average").asDouble(), m.path("when").asText());
            JsonNode st = field(o, "step", file);
            String bw = field(st, "net_bandwidth_bytes_per_sec", file).asText();
            double bytesPerSecond;
            try {
                bytesPerSecond = bw.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bw);
            } catch (NumberFormatException e) {
                throw new UsageException("--costs " + file + ": 'step.net_bandwidth_bytes_per_sec' is not a number or inf: " + bw);
            }
            Measure processCpu = format.equals(VERSION_2) ? new Measure(0, 0) : measure(st, "process_cpu_cores", file);
            Costs.JobStep step = new Costs.JobStep(measure(st, "wall", file), measure(st, "cpu", file), measure(st, "worker_cpu", file), processCpu,
                    (int) number(st, "workers", file), (int) number(st, "ps_shards", file),
                    new LinkModel(bytesPerSecond, number(st, "net_latency_seconds", file)), st.has("step_cv") ? measure(st, "step_cv", file) : null);
            return new Costs(step, measure(o, "compute_step", file), number(o, "rows_per_step", file), measure(o, "pull_per_call", file),
                    measure(o, "pull_per_row", file), measure(o, "push_per_call", file), measure(o, "push_per_row", file),
                    measure(o, "grpc_pull_per_call", file), measure(o, "grpc_pull_per_row", file), measure(o, "grpc_push_per_call", file),
                    measure(o, "grpc_push_per_row", file), measures(field(o, "encode_per_float", file), file),
                    measures(field(o, "decode_per_float", file), file), measure(o, "ring_hop_per_float", file),
                    measure(o, "round_per_float", file), measure(o, "apply_per_float", file), measure(o, "wakeup", file), machine, launched(o, file));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--costs " + file + ": " + e.getMessage());
        }
    }

    /** The launched form, where calibrate --launch measured it; null where not. */
    private static Costs.Launched launched(JsonNode o, Path file) {
        JsonNode l = o.get("launch");
        if (l == null || l.isNull()) return null;
        return new Costs.Launched(measure(l, "wall", file), measure(l, "cpu", file), measure(l, "worker_cpu", file), measure(l, "server_cpu", file),
                (int) number(l, "ps_shards", file));
    }

    private static JsonNode field(JsonNode o, String key, Path file) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) throw new UsageException("--costs " + file + ": no '" + key + "'; write it again with 'shadowsync calibrate'");
        return v;
    }

    private static double number(JsonNode o, String key, Path file) {
        JsonNode v = field(o, key, file);
        if (!v.isNumber()) throw new UsageException("--costs " + file + ": '" + key + "' is not a number: " + v);
        return v.asDouble();
    }

    private static Measure measure(JsonNode o, String key, Path file) {
        JsonNode v = field(o, key, file);
        if (!v.path("median").isNumber() || !v.path("spread").isNumber()) {
            throw new UsageException("--costs " + file + ": '" + key + "' needs numbers 'median' and 'spread', got " + v);
        }
        return new Measure(v.get("median").asDouble(), v.get("spread").asDouble());
    }

    private static Map<String, Measure> measures(JsonNode o, Path file) {
        Map<String, Measure> m = new LinkedHashMap<>();
        o.fieldNames().forEachRemaining(k -> m.put(k, measure(o, k, file)));
        return m;
    }
}
