package io.shadowsync.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A YAML job file: a flat mapping whose keys are the long option names of the command without the leading
 * dashes ({@code model: dlrm}, {@code hidden: [256, 128]}, {@code lr: 0.5}). Its values become the command's
 * defaults, so flags on the command line override the file. An unknown or repeated key, a key without a value, a
 * nested mapping, a value of the wrong type or a non-finite number is an error that names the file and the key;
 * so are text that is not UTF-8 and a second YAML document. Reading checks every value by converting it as the
 * command will, so that picocli's own conversion of these defaults cannot fail later without naming the file.
 */
final class JobFile implements CommandLine.IDefaultValueProvider {
    private final Path file;
    private final Map<String, String> values;

    private JobFile(Path file, Map<String, String> values) {
        this.file = file;
        this.values = values;
    }

    /**
     * Reads and validates a job file against the options of spec, whose user object must be a picocli command
     * class with a no-argument constructor (a fresh instance takes the values on trial).
     */
    static JobFile read(Path file, CommandSpec spec) throws IOException {
        JsonNode root;
        try {
            ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            root = yaml.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new UsageException(file + ": no such job file");
        } catch (CharacterCodingException e) {
            throw new UsageException(file + ": a job file is UTF-8 text, and this one is not");
        } catch (JacksonException e) {
            String where = e.getLocation() != null ? ":" + e.getLocation().getLineNr() : "";
            throw new UsageException(file + where + ": not valid YAML (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new UsageException(file + ": cannot read the job file (" + (e.getMessage() != null ? e.getMessage() : e) + ")");
        }
        Map<String, String> values = new LinkedHashMap<>();
        // no document, or an empty one ("---" with nothing after it reads as the empty string): no keys
        boolean empty = root == null || root.isNull() || root.isMissingNode() || root.isTextual() && root.textValue().isEmpty();
        if (empty) return new JobFile(file, values);
        if (!root.isObject()) throw new UsageException(file + ": a job file is a mapping of option names to values, e.g. 'model: dlrm'");
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            OptionSpec opt = spec.findOption("--" + key);
            if (opt == null && launchesThis(spec) && launcherKey(key)) continue; // launch's file, read by its processes
            if (opt == null || opt.usageHelp() || opt.versionHelp() || !opt.longestName().equals("--" + key)) {
                throw new UsageException(file + ": unknown key '" + key + "' (valid keys: " + String.join(", ", validKeys(spec)) + ")");
            }
            values.put("--" + key, scalar(file, key, e.getValue()));
        }
        JobFile job = new JobFile(file, values);
        job.convertOnTrial(spec);
        return job;
    }

    /** The commands {@code launch} starts with its own job file ({@code trainer}, {@code ps}, and {@code node} in their place). */
    private static boolean launchesThis(CommandSpec spec) {
        return Set.of("trainer", "ps", "node").contains(spec.name());
    }

    /**
     * Whether key is one of {@code launch}'s own options (local, ps, colocate, stop-grace...): a job file written for
     * launch holds them, and launch hands the same file to the processes it starts, which leave them to launch.
     */
    private static boolean launcherKey(String key) {
        OptionSpec o = CommandSpec.forAnnotatedObject(new LaunchCommand()).findOption("--" + key);
        return o != null && o.longestName().equals("--" + key) && !o.usageHelp() && !o.versionHelp();
    }

    private static String scalar(Path file, String key, JsonNode v) {
        // "key:" alone reads as "" and "key: ~" as null, which would become the text "null": neither is a value
        if (isEmpty(v)) throw new UsageException(file + ": key '" + key + "' has no value");
        if (v.isValueNode()) return v.asText();
        if (v.isArray()) {
            // picocli would split the empty text into one empty item and fail on it with neither key nor file
            if (v.isEmpty()) throw new UsageException(file + ": key '" + key + "' has an empty list");
            List<String> parts = new ArrayList<>();
            for (JsonNode x : v) {
                if (isEmpty(x)) throw new UsageException(file + ": key '" + key + "' has an empty item in its list");
                if (!x.isValueNode()) throw new UsageException(file + ": key '" + key + "' must be a list of plain values");
                parts.add(x.asText());
            }
            return String.join(",", parts);
        }
        throw new UsageException(file + ": key '" + key + "' must be a value or a list, not a mapping");
    }

    private static boolean isEmpty(JsonNode v) {
        return v.isNull() || v.isTextual() && v.textValue().isEmpty();
    }

    /**
     * Gives this file's values to a fresh instance of the command and has picocli convert them, as the real parse
     * will: a value that does not convert, or a number that is NaN or infinite, is refused here with the file and
     * the key, instead of failing later with a picocli message that names neither.
     */
    private void convertOnTrial(CommandSpec spec) {
        CommandLine trial = new CommandLine(spec.userObject().getClass());
        trial.setDefaultValueProvider(this);
        try {
            trial.parseArgs();
        } catch (CommandLine.ParameterException e) {
            // a required flag the file does not give (launch's --local, trainer's --rank) is the command line's
            // business: picocli checks for those after it has converted every default. (The same exception type also
            // says a value looked like an option, 'split: --workers': that one is the file's.)
            boolean onlyRequiredFlagsMissing = e instanceof CommandLine.MissingParameterException m && m.getMissing() != null
                    && !m.getMissing().isEmpty()
                    && m.getMissing().stream().allMatch(a -> a.required() && !values.containsKey(a instanceof OptionSpec o ? o.longestName() : ""));
            if (!onlyRequiredFlagsMissing) {
                if (!(e.getArgSpec() instanceof OptionSpec o)) throw new UsageException(file + ": " + e.getMessage());
                String why = e.getCause() instanceof CommandLine.TypeConversionException t ? t.getMessage() : e.getMessage();
                throw new UsageException(file + ": key '" + o.longestName().substring(2) + "': " + why);
            }
        }
        for (Map.Entry<String, String> v : values.entrySet()) {
            Object value = trial.getCommandSpec().findOption(v.getKey()).getValue();
            if (value instanceof Double d && !Double.isFinite(d) || value instanceof Float f && !Float.isFinite(f)) {
                throw new UsageException(file + ": key '" + v.getKey().substring(2) + "' must be a finite number, got '" + v.getValue() + "'");
            }
        }
    }

    static List<String> validKeys(CommandSpec spec) {
        TreeSet<String> keys = new TreeSet<>();
        for (OptionSpec o : spec.options()) {
            if (!o.usageHelp() && !o.versionHelp() && o.longestName().startsWith("--")) keys.add(o.longestName().substring(2));
        }
        return new ArrayList<>(keys);
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (argSpec instanceof OptionSpec o) return values.get(o.longestName());
        return null;
    }

    /** Whether the file gives this option ({@code --trainers}). */
    boolean sets(String option) {
        return values.containsKey(option);
    }

    Path file() {
        return file;
    }

    Map<String, String> values() {
        return values;
    }
}
