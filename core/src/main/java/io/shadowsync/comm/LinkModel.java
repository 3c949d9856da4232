package io.shadowsync.comm;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An emulated network link for in-process communication: a message of n bytes takes
 * {@code latency + n / bandwidth} seconds, and messages on one link are serialized (a link sends one message at a
 * time). The delay is slept, so emulation costs no CPU. {@link #NONE} is an ideal link (no delay).
 *
 * @param bytesPerSecond bandwidth; {@code Double.POSITIVE_INFINITY} for unlimited
 * @param latencySeconds one-way latency added to every message
 */
public record LinkModel(double bytesPerSecond, double latencySeconds) {
    public static final LinkModel NONE = new LinkModel(Double.POSITIVE_INFINITY, 0);

    public LinkModel {
        if (!(bytesPerSecond > 0)) throw new IllegalArgumentException("link bandwidth must be positive, got " + bytesPerSecond);
        if (!(latencySeconds >= 0) || Double.isInfinite(latencySeconds)) throw new IllegalArgumentException("link latency must be finite and ≥ 0, got " + latencySeconds);
    }

    private static final Pattern QUANTITY = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)([a-z]*)");
    private static final String BANDWIDTH_FORMS = "<number><unit> with unit kbit, mbit, gbit (bits per second, "
            + "decimal: 1gbit = 125,000,000 bytes/s) or kb, mb, gb (bytes per second, decimal), e.g. \"10gbit\", "
            + "\"1.5gb\"; or \"inf\" / \"none\" for unlimited";
    private static final String LATENCY_FORMS = "<number><unit> with unit s, ms, us or ns, e.g. \"0.5ms\", "
            + "\"200us\"; or \"0\" / \"none\" for no latency";

    /**
     * A link from the strings a user types: bandwidth {@code "10gbit"}, {@code "100mbit"}, {@code "1.5gb"} or
     * {@code "inf"}; latency {@code "0.5ms"}, {@code "200us"}, {@code "1s"} or {@code "0"}. Units are decimal
     * (k = 1000) and case-insensitive; "bit" units are divided by 8. Bad strings are refused with the accepted
     * forms.
     */
    public static LinkModel parse(String bandwidth, String latency) {
        return new LinkModel(parseBandwidth(bandwidth), parseLatency(latency));
    }

    private static double parseBandwidth(String s) {
        String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("inf") || t.equals("none")) return Double.POSITIVE_INFINITY;
        Matcher m = QUANTITY.matcher(t);
        double scale = !m.matches() ? 0 : switch (m.group(2)) {
            case "kbit" -> 1e3 / 8;
            case "mbit" -> 1e6 / 8;
            case "gbit" -> 1e9 / 8;
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            default -> 0;
        };
        double v = scale == 0 ? 0 : Double.parseDouble(m.group(1)) * scale;
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("bad link bandwidth '" + s + "': expected " + BANDWIDTH_FORMS
                    + (scale != 0 ? " (it must be above zero)" : ""));
        }
        return v;
    }

    private static double parseLatency(String s) {
        String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("0") || t.equals("none")) return 0;
        Matcher m = QUANTITY.matcher(t);
        double scale = !m.matches() ? 0 : switch (m.group(2)) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            default -> 0;
        };
        if (scale == 0) throw new IllegalArgumentException("bad link latency '" + s + "': expected " + LATENCY_FORMS);
        double v = Double.parseDouble(m.group(1)) * scale;
        if (Double.isInfinite(v)) throw new IllegalArgumentException("link latency '" + s + "' is too large");
        return v;
    }

    public boolean isIdeal() {
        return latencySeconds == 0 && Double.isInfinite(bytesPerSecond);
    }

    /** Seconds a message of the given size occupies the link, latency included. */
    public double seconds(long bytes) {
        return latencySeconds + (Double.isInfinite(bytesPerSecond) ? 0 : bytes / bytesPerSecond);
    }
}
