package io.shadowsync.sim;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How much longer than its median a step takes: a multiplier drawn per step. {@code none} (1); {@code lognormal:S}
 * (exp(S·Z − S²/2), mean 1: jitter of relative spread about S); {@code exp:F} (1 + an exponential delay of mean F:
 * occasional long steps, whose slowest of N grows as H_N).
 */
public record Stragglers(Kind kind, double parameter) {
    public enum Kind { NONE, LOGNORMAL, EXPONENTIAL }

    public static final Stragglers NONE = new Stragglers(Kind.NONE, 0);

    public Stragglers {
        if (!(parameter >= 0) || Double.isInfinite(parameter)) throw new IllegalArgumentException("a straggler parameter is finite and ≥ 0, got " + parameter);
    }

    /** none, lognormal:S or exp:F. */
    public static Stragglers parse(String s) {
        String t = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        if (t.equals("none")) return NONE;
        int c = t.indexOf(':');
        String kind = c < 0 ? t : t.substring(0, c);
        double p;
        try {
            p = c < 0 ? Double.NaN : Double.parseDouble(t.substring(c + 1));
        } catch (NumberFormatException e) {
            p = Double.NaN;
        }
        if (!(p >= 0) || Double.isInfinite(p) || !(kind.equals("lognormal") || kind.equals("exp"))) {
            throw new IllegalArgumentException("stragglers '" + s + "': use none, lognormal:S (S ≥ 0, e.g. lognormal:0.1) or exp:F (F ≥ 0, e.g. exp:0.05)");
        }
        return new Stragglers(kind.equals("exp") ? Kind.EXPONENTIAL : Kind.LOGNORMAL, p);
    }

    /** One step's multiplier. */
    public double draw(SplittableRandom r) {
        return switch (kind) {
            case NONE -> 1;
            case LOGNORMAL -> Math.exp(parameter * gaussian(r) - parameter * parameter / 2);
            case EXPONENTIAL -> 1 + parameter * -Math.log(1 - r.nextDouble());
        };
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case NONE -> "none";
            case LOGNORMAL -> "lognormal:" + parameter;
            case EXPONENTIAL -> "exp:" + parameter;
        };
    }
}
