package io.shadowsync.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example of README.md ("Use it from Java"), compiled and run exactly as printed: the code between the
 * {@code java-example} markers goes into a file of its class's name, is compiled against the library with every lint
 * warning an error, and its main runs here (with a temporary directory for its data) and must print a good AUC.
 */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    /** Catches a README example that no longer compiles against the API, fails when run, or trains nothing useful. */
    @Test
    void theReadmeExampleCompilesRunsAndLearns() throws Exception {
        String code = example(readme());
        Matcher cls = Pattern.compile("public class (\\w+)").matcher(code);
        assertTrue(cls.find(), "the example declares a public class");
        Path src = dir.resolve("src"), classes = dir.resolve("classes");
        Files.createDirectories(src);
        Files.createDirectories(classes);
        Path file = src.resolve(cls.group(1) + ".java");
        Files.writeString(file, code);

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        String library = Path.of(TrainingJob.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("-Xlint:all", "-Werror", "-classpath", library, "-d", classes.toString()), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(file)).call();
        assertTrue(ok, "the README example does not compile:\n" + diagnostics);

        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = System.out;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass(cls.group(1)).getMethod("main", String[].class);
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[] {dir.resolve("data").toString()});
        } finally {
            System.setOut(out);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        out.print(printed);
        Matcher auc = Pattern.compile("eval AUC (\\d[.,]\\d+), logloss (\\d[.,]\\d+)").matcher(printed); // printf: the default locale's point
        assertTrue(auc.find(), "the example prints its metrics: " + printed);
        assertTrue(Double.parseDouble(auc.group(1).replace(',', '.')) > 0.6, "a model that learned (a constant predictor has 0.5): " + printed);
        Matcher click = Pattern.compile("P\\(click\\) (\\d[.,]\\d+), of the first eval rows \\[(.+)\\]").matcher(printed);
        assertTrue(click.find(), "the example predicts one example and a batch: " + printed);
        double p = Double.parseDouble(click.group(1).replace(',', '.'));
        assertTrue(p > 0 && p < 1, printed);
        String[] rows = click.group(2).split(", ");
        assertEquals(4, rows.length, printed);
        for (String r : rows) assertTrue(Float.parseFloat(r) > 0 && Float.parseFloat(r) < 1, printed);
        assertTrue(printed.contains("trained with s-ma by 2 trainers on size="), "the provenance read back: " + printed);
        assertTrue(Files.size(dir.resolve("data/dlrm.model")) > 0);
    }

    /** The marker-delimited block must hold exactly one fenced java block, and the test must find it. */
    @Test
    void theExampleIsWhereTheTestLooks() throws Exception {
        String code = example(readme());
        assertTrue(code.contains("TrainingJob.builder()") && code.contains("TrainedModel.load("), code);
        assertEquals(-1, code.indexOf("```"));
    }

    static String example(String readme) {
        Matcher m = Pattern.compile("<!-- java-example:start -->\\s*```java\\n(.*?)```\\s*<!-- java-example:end -->", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README.md has a ```java block between <!-- java-example:start --> and <!-- java-example:end -->");
        String code = m.group(1);
        assertTrue(!m.find(), "README.md has one java example between markers");
        return code;
    }

    /** README.md of the repository: the test runs in the module's directory, the README is one or more levels up. */
    static String readme() throws Exception {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path r = d.resolve("README.md");
            if (Files.isRegularFile(r) && Files.exists(d.resolve("core"))) return Files.readString(r);
        }
        throw new AssertionError("README.md not found above " + Path.of("").toAbsolutePath());
    }
}
