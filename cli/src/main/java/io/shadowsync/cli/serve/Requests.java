package io.shadowsync.cli.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shadowsync.api.Example;
import io.shadowsync.data.DataSchema;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON of {@code POST /v1/score} (docs/serve.md): a body is one example, {@code {"dense": [...], "categorical":
 * [...], "sparse": {"indices": [...], "values": [...]}}} with the fields the model's layout has, or a batch
 * {@code {"instances": [example, ...]}}. Every check names what is wrong and where ({@link BadRequest}); an example
 * that passes has exactly the model's layout, so it cannot fail a batch it is scored in.
 */
final class Requests {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> EXAMPLE_FIELDS = Set.of("dense", "categorical", "sparse");
    private static final Set<String> SPARSE_FIELDS = Set.of("indices", "values");

    /** A request the server refuses with 400; the message says what is wrong and where. */
    static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    /** What a body asks for: its examples, and whether it was a batch (the answer has the same shape). */
    record Parsed(List<Example> examples, boolean batch) {}

    private final DataSchema schema;
    private final String kind;
    private final int maxInstances;

    Requests(DataSchema schema, String kind, int maxInstances) {
        this.schema = schema;
        this.kind = kind;
        this.maxInstances = maxInstances;
    }

    Parsed parse(byte[] body) throws BadRequest {
        JsonNode root;
        try {
            root = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new BadRequest("malformed JSON: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || root.isMissingNode()) throw new BadRequest("the body is empty; send one example or {\"instances\": [...]}");
        if (!root.isObject()) throw new BadRequest("the body is a JSON " + type(root) + "; send one example object or {\"instances\": [...]}");
        if (root.has("instances")) {
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("instances")) throw new BadRequest("unknown field '" + f + "' beside 'instances' (a batch has only 'instances')");
            }
            JsonNode xs = root.get("instances");
            if (!xs.isArray()) throw new BadRequest("'instances' is a JSON " + type(xs) + ", not an array of examples");
            if (xs.isEmpty()) throw new BadRequest("'instances' is empty; send at least one example");
            if (xs.size() > maxInstances) throw new BadRequest("'instances' has " + xs.size() + " examples, at most " + maxInstances + " are taken per request");
            List<Example> out = new ArrayList<>(xs.size());
            for (int i = 0; i < xs.size(); i++) out.add(example(xs.get(i), "instances[" + i + "]"));
            return new Parsed(out, true);
        }
        return new Parsed(List.of(example(root, "the example")), false);
    }

    private Example example(JsonNode x, String where) throws BadRequest {
        if (!x.isObject()) throw new BadRequest(where + " is a JSON " + type(x) + ", not an example object");
        for (Iterator<String> it = x.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!EXAMPLE_FIELDS.contains(f)) throw new BadRequest(where + " has an unknown field '" + f + "' (an example has dense, categorical, sparse)");
        }
        float[] dense = floats(x.get("dense"), where + ".dense", schema.numDense(), "dense features");
        int[] cat = ids(x.get("categorical"), where + ".categorical", schema.numCat());
        int[] idx = null;
        float[] val = null;
        JsonNode sp = x.get("sparse");
        if (sp != null) {
            if (!schema.sparse()) throw new BadRequest(where + " has sparse features, the " + kind + " model takes none");
            if (!sp.isObject()) throw new BadRequest(where + ".sparse is a JSON " + type(sp) + ", not {\"indices\": [...], \"values\": [...]}");
            for (Iterator<String> it = sp.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!SPARSE_FIELDS.contains(f)) throw new BadRequest(where + ".sparse has an unknown field '" + f + "' (it has indices and values)");
            }
            JsonNode in = sp.get("indices"), vn = sp.get("values");
            if (in == null || vn == null) throw new BadRequest(where + ".sparse needs both 'indices' and 'values'");
            if (!in.isArray() || !vn.isArray()) throw new BadRequest(where + ".sparse.indices and .values are arrays");
            if (in.size() != vn.size()) throw new BadRequest(where + ".sparse has " + in.size() + " indices and " + vn.size() + " values; one value per index");
            val = floats(vn, where + ".sparse.values", vn.size(), "values");
            idx = new int[in.size()];
            for (int i = 0; i < idx.length; i++) {
                JsonNode n = in.get(i);
                if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                    throw new BadRequest(where + ".sparse.indices[" + i + "] is " + n + ", not an index in 0.." + Integer.MAX_VALUE);
                }
                idx[i] = n.intValue();
            }
        }
        return new Example(dense, cat, idx, val);
    }

    private float[] floats(JsonNode a, String where, int expected, String what) throws BadRequest {
        if (a == null) {
            if (expected == 0) return null;
            throw new BadRequest(where + " is missing; the " + kind + " model takes " + expected + " " + what);
        }
        if (!a.isArray()) throw new BadRequest(where + " is a JSON " + type(a) + ", not an array of numbers");
        if (a.size() != expected) throw new BadRequest(where + " has " + a.size() + " values, the " + kind + " model takes " + expected + " " + what);
        float[] out = new float[expected];
        for (int i = 0; i < expected; i++) {
            JsonNode n = a.get(i);
            if (!n.isNumber()) throw new BadRequest(where + "[" + i + "] is " + n + ", not a number");
            float v = n.floatValue();
            if (!Float.isFinite(v)) throw new BadRequest(where + "[" + i + "] is " + n.asText() + ", which is not a finite float");
            out[i] = v;
        }
        return out;
    }

    private int[] ids(JsonNode a, String where, int expected) throws BadRequest {
        if (a == null) {
            if (expected == 0) return null;
            throw new BadRequest(where + " is missing; the " + kind + " model takes " + expected + " categorical ids");
        }
        if (!a.isArray()) throw new BadRequest(where + " is a JSON " + type(a) + ", not an array of ids");
        if (a.size() != expected) throw new BadRequest(where + " has " + a.size() + " ids, the " + kind + " model takes " + expected + " categorical ids");
        int[] out = new int[expected];
        for (int i = 0; i < expected; i++) {
            JsonNode n = a.get(i);
            // a raw 32-bit id: the int or the unsigned value of Criteo's 8 hex digits
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < Integer.MIN_VALUE || n.longValue() > 0xFFFF_FFFFL) {
                throw new BadRequest(where + "[" + i + "] is " + n + ", not a 32-bit integer id");
            }
            out[i] = (int) n.longValue();
        }
        return out;
    }

    private static String type(JsonNode n) {
        return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The answer to a body: one prediction, or {"predictions": [...]} for a batch. */
    static byte[] answer(float[][] scores, boolean batch) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(bytes)) {
            if (batch) {
                g.writeStartObject();
                g.writeArrayFieldStart("predictions");
                for (float[] s : scores) prediction(g, s);
                g.writeEndArray();
                g.writeEndObject();
            } else {
                prediction(g, scores[0]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** {"score": x} for one output (as predict writes it); {"class": c, "probabilities": [...]} for classes. */
    private static void prediction(JsonGenerator g, float[] s) throws IOException {
        g.writeStartObject();
        if (s.length == 1) {
            g.writeNumberField("score", s[0]);
        } else {
            int best = 0;
            for (int c = 1; c < s.length; c++) if (s[c] > s[best]) best = c;
            g.writeNumberField("class", best);
            g.writeArrayFieldStart("probabilities");
            for (float v : s) g.writeNumber(v);
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    static byte[] object(Map<String, ?> value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
