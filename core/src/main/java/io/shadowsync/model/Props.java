package io.shadowsync.model;

import java.util.Map;
import java.util.Set;

/** Reading spec settings back from string properties; every failure names the key. Used by the spec records. */
final class Props {
    private Props() {}

    static String str(Map<String, String> p, String key) {
        String v = p.get(key);
        if (v == null) throw new IllegalArgumentException("model property '" + key + "' is missing");
        return v.trim();
    }

    static int integer(Map<String, String> p, String key) {
        String v = str(p, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model property '" + key + "' must be an integer, got '" + v + "'", e);
        }
    }

    static long longInt(Map<String, String> p, String key) {
        String v = str(p, key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model property '" + key + "' must be an integer, got '" + v + "'", e);
        }
    }

    static boolean bool(Map<String, String> p, String key) {
        String v = str(p, key);
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw new IllegalArgumentException("model property '" + key + "' must be true or false, got '" + v + "'");
    }

    /** Comma-separated integers; the empty string is the empty list. */
    static int[] ints(Map<String, String> p, String key) {
        String v = str(p, key);
        if (v.isEmpty()) return new int[0];
        String[] parts = v.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model property '" + key + "' must be comma-separated integers, got '" + v + "'", e);
            }
        }
        return out;
    }

    static String ints(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(v[i]);
        }
        return sb.toString();
    }

    /** Refuses keys a spec does not know, so that a misspelt setting fails instead of being ignored. */
    static void onlyKeys(Map<String, String> p, Set<String> known) {
        for (String k : p.keySet()) {
            if (!known.contains(k)) throw new IllegalArgumentException("model property '" + k + "' is not a setting of kind '" + p.get("kind") + "' (known: " + known + ")");
        }
    }

    /** A spec's own kind check, for specs read directly rather than through {@link Models}. */
    static void kind(Map<String, String> p, String expected) {
        String k = str(p, "kind");
        if (!k.equals(expected)) throw new IllegalArgumentException("model property 'kind' is '" + k + "', expected '" + expected + "'");
    }
}
