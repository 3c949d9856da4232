package io.shadowsync.tune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The parameters a search varies, in a fixed order, each a {@link Choice} (a list of values: the points of a grid, or
 * the categories of a random or model-based search) or a {@link Range} (numbers from min to max, uniform or on a log
 * scale, whole numbers or not). Immutable; built with {@link #builder()}, which refuses bad dimensions with a sentence
 * naming the parameter.
 */
public final class SearchSpace {
    /** One parameter's values. */
    public sealed interface Dimension permits Choice, Range {}

    /** A list of values, tried as given (numbers, strings, booleans, lists: whatever the job takes). */
    public record Choice(List<Object> values) implements Dimension {
        public Choice {
            values = List.copyOf(values);
        }
    }

    /**
     * Numbers in [min, max]: uniform, or with {@code log} uniform in log(value) (min must then be positive);
     * {@code integer}: whole numbers (drawn as reals, then rounded).
     */
    public record Range(double min, double max, boolean log, boolean integer) implements Dimension {
        /** The value in the space a model of the search works in: log(value) on a log scale, else the value. */
        double toInternal(double v) {
            return log ? Math.log(v) : v;
        }

        double fromInternal(double u) {
            double v = log ? Math.exp(u) : u;
            v = Math.min(max, Math.max(min, v));
            return integer ? Math.min(Math.floor(max), Math.max(Math.ceil(min), Math.rint(v))) : v;
        }

        /**
         * The ends of the range in the search's scale; of whole numbers, half a unit beyond the outermost ones, so that
         * rounding gives each whole number an equal share, the ends included.
         */
        double lowInternal() {
            return toInternal(integer ? Math.ceil(min) - 0.5 : min);
        }

        double highInternal() {
            return toInternal(integer ? Math.floor(max) + 0.5 : max);
        }

        /** A value of this range as the job takes it: a Long for whole numbers, else a Double. */
        Object box(double v) {
            return integer ? (Object) (long) v : (Object) v;
        }
    }

    private final Map<String, Dimension> dims;

    private SearchSpace(Map<String, Dimension> dims) {
        this.dims = Collections.unmodifiableMap(new LinkedHashMap<>(dims));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The parameters, in the order they were added. */
    public Map<String, Dimension> dimensions() {
        return dims;
    }

    public List<String> names() {
        return new ArrayList<>(dims.keySet());
    }

    /** Whether every parameter is a list of values (so that the space is a finite grid). */
    public boolean isGrid() {
        for (Dimension d : dims.values()) if (!(d instanceof Choice)) return false;
        return true;
    }

    /** The points of the grid (the product of the lists' sizes); Long.MAX_VALUE when that overflows; 0 when a range is in it. */
    public long gridSize() {
        if (!isGrid()) return 0;
        long n = 1;
        for (Dimension d : dims.values()) {
            int k = ((Choice) d).values().size();
            if (n > Long.MAX_VALUE / k) return Long.MAX_VALUE;
            n *= k;
        }
        return n;
    }

    /** The largest value parameter {@code name} can take as a number, or null when it has no numeric values. */
    public Double maxNumber(String name) {
        Dimension d = dims.get(name);
        if (d instanceof Range r) return r.max();
        if (d instanceof Choice c) {
            Double m = null;
            for (Object v : c.values()) if (v instanceof Number n && (m == null || n.doubleValue() > m)) m = n.doubleValue();
            return m;
        }
        return null;
    }

    @Override
    public String toString() {
        return dims.toString();
    }

    /** Collects the dimensions; {@link #build} needs at least one. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Dimension> dims = new LinkedHashMap<>();

        private Builder() {}

        /** Parameter {@code name} takes one of these values (at least one). */
        public Builder choice(String name, List<?> values) {
            check(name);
            Objects.requireNonNull(values, "values");
            if (values.isEmpty()) throw new IllegalArgumentException("parameter '" + name + "' has an empty list of values");
            for (Object v : values) if (v == null) throw new IllegalArgumentException("parameter '" + name + "' has an empty value in its list");
            dims.put(name, new Choice(new ArrayList<>(values)));
            return this;
        }

        /** Parameter {@code name} takes numbers in [min, max], on a log scale when {@code log}, whole numbers when {@code integer}. */
        public Builder range(String name, double min, double max, boolean log, boolean integer) {
            check(name);
            if (!Double.isFinite(min) || !Double.isFinite(max)) {
                throw new IllegalArgumentException("parameter '" + name + "': min and max must be finite numbers, got " + min + " and " + max);
            }
            if (min > max) throw new IllegalArgumentException("parameter '" + name + "': min " + min + " is greater than max " + max);
            if (log && min <= 0) {
                throw new IllegalArgumentException("parameter '" + name + "': a log range needs min > 0, got min " + min);
            }
            if (integer && Math.ceil(min) > Math.floor(max)) {
                throw new IllegalArgumentException("parameter '" + name + "': no whole number lies between min " + min + " and max " + max);
            }
            dims.put(name, new Range(min, max, log, integer));
            return this;
        }

        private void check(String name) {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("a parameter needs a name");
            if (dims.containsKey(name)) throw new IllegalArgumentException("parameter '" + name + "' is given twice");
        }

        public SearchSpace build() {
            if (dims.isEmpty()) throw new IllegalArgumentException("the search space has no parameters");
            return new SearchSpace(dims);
        }
    }
}
