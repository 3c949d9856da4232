package io.shadowsync.tune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Independent draws from the space: a list's values equally likely, a range uniform in its (log) scale. */
final class RandomSearch implements Search {
    private final SearchSpace space;
    private final SplittableRandom random;

    RandomSearch(SearchSpace space, long seed) {
        this.space = space;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public Map<String, Object> next(List<Observation> finished) {
        return draw(space, random);
    }

    /** One point of space drawn from its prior (what TPE starts from, too). */
    static Map<String, Object> draw(SearchSpace space, SplittableRandom random) {
        Map<String, Object> p = new LinkedHashMap<>();
        for (var e : space.dimensions().entrySet()) {
            if (e.getValue() instanceof SearchSpace.Choice c) {
                p.put(e.getKey(), c.values().get(random.nextInt(c.values().size())));
            } else {
                SearchSpace.Range r = (SearchSpace.Range) e.getValue();
                double lo = r.lowInternal(), hi = r.highInternal();
                double u = hi > lo ? lo + random.nextDouble() * (hi - lo) : lo;
                p.put(e.getKey(), r.box(r.fromInternal(u)));
            }
        }
        return p;
    }
}
