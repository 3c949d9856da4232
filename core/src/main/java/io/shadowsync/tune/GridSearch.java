package io.shadowsync.tune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The points of a grid, one after the other: an odometer over the lists, the last parameter turning fastest. */
final class GridSearch implements Search {
    private final SearchSpace space;
    private final long size;
    private long next;

    GridSearch(SearchSpace space) {
        if (!space.isGrid()) {
            String range = null;
            for (var e : space.dimensions().entrySet()) if (e.getValue() instanceof SearchSpace.Range) range = e.getKey();
            throw new IllegalArgumentException("a grid search takes lists of values only, and '" + range + "' is a range");
        }
        this.space = space;
        this.size = space.gridSize();
    }

    @Override
    public Map<String, Object> next(List<Observation> finished) {
        if (next >= size) return null;
        long at = next++;
        List<String> names = space.names();
        Object[] picked = new Object[names.size()];
        for (int d = names.size() - 1; d >= 0; d--) {
            List<Object> values = ((SearchSpace.Choice) space.dimensions().get(names.get(d))).values();
            picked[d] = values.get((int) (at % values.size()));
            at /= values.size();
        }
        Map<String, Object> p = new LinkedHashMap<>();
        for (int d = 0; d < picked.length; d++) p.put(names.get(d), picked[d]);
        return p;
    }
}
