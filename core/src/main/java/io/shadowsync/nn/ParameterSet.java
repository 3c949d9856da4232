package io.shadowsync.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's dense parameters: <b>one contiguous {@code float[]}</b> with a named view per tensor, so that
 * averaging, an allreduce, a checkpoint or a push touches one array.
 *
 * <p>Sharing contract: {@link #data()} is read and written by Hogwild workers without locks (the race is
 * the algorithm); the layout (names, offsets, shapes) is immutable once built.
 */
public final class ParameterSet {
    /** A named view {@code [offset, offset + size)} into {@link #data()}; shape is row-major. */
    public record View(String name, int offset, int[] shape) {
        public int size() {
            int s = 1;
            for (int d : shape) s *= d;
            return s;
        }
    }

    private final float[] data;
    private final List<View> views;
    private final Map<String, View> byName;

    private ParameterSet(float[] data, List<View> views) {
        this.data = data;
        this.views = Collections.unmodifiableList(views);
        Map<String, View> m = new LinkedHashMap<>();
        for (View v : views) m.put(v.name(), v);
        this.byName = Collections.unmodifiableMap(m);
    }

    public float[] data() {
        return data;
    }

    public int size() {
        return data.length;
    }

    public List<View> views() {
        return views;
    }

    /** The view called name; throws if there is none. */
    public View view(String name) {
        View v = byName.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter tensor named '" + name + "' (have " + byName.keySet() + ")");
        return v;
    }

    /** A new set with the same layout and a copy of the values (a trainer's replica, a snapshot). */
    public ParameterSet copy() {
        return new ParameterSet(data.clone(), views);
    }

    /** A new set with the same layout and all values zero (a gradient buffer, optimizer state). */
    public ParameterSet zerosLike() {
        return new ParameterSet(new float[data.length], views);
    }

    /** Same layout as other: same names, offsets and shapes, in the same order. */
    public boolean sameLayout(ParameterSet other) {
        if (other.views.size() != views.size() || other.data.length != data.length) return false;
        for (int i = 0; i < views.size(); i++) {
            View a = views.get(i), b = other.views.get(i);
            if (!a.name().equals(b.name()) || a.offset() != b.offset() || !java.util.Arrays.equals(a.shape(), b.shape())) return false;
        }
        return true;
    }

    /** Builds the layout tensor by tensor, then allocates the one array. */
    public static final class Builder {
        private final List<View> views = new ArrayList<>();
        /** The names so far: a duplicate is found in constant time, so building n tensors takes O(n), not O(n²). */
        private final java.util.Set<String> names = new java.util.HashSet<>();
        private int size;

        /** Appends a tensor of the given shape and returns its offset in the final array. */
        public int add(String name, int... shape) {
            if (names.contains(name)) throw new IllegalArgumentException("duplicate parameter tensor name '" + name + "'");
            long s = 1;
            for (int d : shape) {
                if (d <= 0) throw new IllegalArgumentException("tensor '" + name + "' has a non-positive dimension " + d);
                s *= d;
            }
            if (size + s > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("dense parameters exceed 2^31 floats");
            int off = size;
            names.add(name);
            views.add(new View(name, off, shape.clone()));
            size += (int) s;
            return off;
        }

        public ParameterSet build() {
            return new ParameterSet(new float[size], new ArrayList<>(views));
        }
    }
}
