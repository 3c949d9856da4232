package io.shadowsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --compress-rows}: a small DLRM trains with fp16 rows in one process and across processes
 * ({@code launch --local}) to the same quality, each summary reporting the rows' bytes at half of float32's; a bad row
 * codec is a usage error naming the flag.
 */
class CompressRowsCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() {
        CliTest.Run r = CliTest.run("gen-data", "--out", dir.resolve("ctr").toString(), "--rows", "16000", "--eval-rows", "4000",
                "--vocab", "2000", "--seed", "11");
        assertEquals(0, r.code(), r.err());
    }

    @AfterEach
    void noProcessLeftBehind() throws Exception {
        ChildJvms.assertNoneLeftBehind();
    }

    private static String[] args(List<String> head, String... job) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of("--model", "dlrm", "--train", dir.resolve("ctr/train.tsv").toString(), "--eval",
                dir.resolve("ctr/eval.tsv").toString(), "--emb-rows", "2000", "--sync", "s-ma", "--sync-interval-ms", "5",
                "--epochs", "2", "--seed", "4", "--no-progress"));
        all.addAll(List.of(job));
        return all.toArray(String[]::new);
    }

    /**
     * fp16 rows: eval logloss under the bound in process (well under the 0.693 of a constant guess; float32 rows reach
     * about the same on this data) and across processes within the margin of shadow averaging's run-to-run spread; both
     * report rows as fp16 with exactly half the bytes of float32. A process path that left rows in float32 reports a
     * ratio of 1; one that encoded without decoding (or decoded with another codec) trains to nonsense.
     */
    @Test
    @Timeout(300)
    void dlrmTrainsWithFp16RowsInProcessAndAcrossProcesses() throws Exception {
        CliTest.Run in = CliTest.run(args(List.of("train", "--trainers", "2", "--ps-shards", "2"), "--compress-rows", "fp16"));
        assertEquals(0, in.code(), in.err());
        CliTest.Run mp = CliTest.run(args(List.of("launch", "--local", "2", "--ps", "2", "--rendezvous-timeout", "600"), "--compress-rows", "fp16"));
        assertEquals(0, mp.code(), mp.err());
        JsonNode a = in.json(), b = mp.json();
        double la = a.get("eval").get("logloss").asDouble(), lb = b.get("eval").get("logloss").asDouble();
        assertTrue(la < 0.55, "in-process eval logloss " + la + " with fp16 rows");
        assertEquals(la, lb, 0.01, "in-process " + la + " vs across processes " + lb);
        for (JsonNode s : List.of(a, b)) {
            JsonNode rows = s.get("rows");
            assertEquals("fp16", rows.get("codec").asText(), s.toString());
            assertTrue(rows.get("pulled").asLong() > 0 && rows.get("pushed").asLong() > 0, rows.toString());
            assertEquals(2.0, rows.get("compression_ratio").asDouble(), 1e-9, rows.toString());
        }
    }

    @Test
    void aBadRowCodecIsAUsageErrorNamingTheFlag() {
        CliTest.Run r = CliTest.run(args(List.of("train"), "--compress-rows", "fp8"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--compress-rows: unknown row codec 'fp8'"), r.err());
        CliTest.Run topk = CliTest.run(args(List.of("train"), "--compress-rows", "topk:0.01"));
        assertEquals(2, topk.code(), topk.err());
        assertTrue(topk.err().contains("--compress-rows: rows take no topk"), topk.err());
    }
}
