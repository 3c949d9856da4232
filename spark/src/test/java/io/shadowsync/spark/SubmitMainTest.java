package io.shadowsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spark-submit's entry point: reading Criteo TSV as core does, and refusing bad job files before any work. */
class SubmitMainTest {
    @Test
    void criteoRowsReadBySparkAreTheRowsCoreReads() {
        LocalSpark.Ctr ctr = LocalSpark.ctr();
        ShadowSyncClassifier est = new ShadowSyncClassifier();
        List<Row> spark = SubmitMain.read(LocalSpark.session(), "criteo", ctr.dir().resolve("eval.tsv").toString(), est).collectAsList();
        List<Row> core = ctr.evalDf().collectAsList();
        assertEquals(core.size(), spark.size());
        // in any order: the same label, 13 log1p counts (float bits) and 26 ids in every row
        assertEquals(core.stream().map(Row::toString).sorted().toList(), spark.stream().map(Row::toString).sorted().toList());
    }

    @Test
    void aJobFileKeyASparkJobDoesNotTakeIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
        Path job = tmp.resolve("job.yaml");
        Files.writeString(job, "model: dlrm\ntrainers: 2\nlisten: 127.0.0.1:0\n");
        SubmitMain.UsageError e = assertThrows(SubmitMain.UsageError.class,
                () -> SubmitMain.run(new String[] {job.toString(), "--input", "x", "--format", "criteo"}));
        assertTrue(e.getMessage().contains("'listen'") && e.getMessage().contains(job.toString()), e.getMessage());
        assertThrows(SubmitMain.UsageError.class, () -> SubmitMain.run(new String[] {job.toString(), "--inptu", "x"}));
    }
}
