package io.shadowsync.tune;

import java.util.List;
import java.util.Map;

/**
 * Proposes the parameters of the next trial. The tuner calls {@link #next} from one thread, each time it can start a
 * trial, with every trial finished so far (trials still running are not in it); an implementation may keep state
 * between calls (a grid's position, a seeded random stream).
 */
public interface Search {
    /** A finished trial: its parameters and its loss (lower is better; NaN for a trial that failed). */
    record Observation(Map<String, Object> params, double loss) {}

    /** The next trial's parameters, in the space's order; null when there are no more (a grid that has been run through). */
    Map<String, Object> next(List<Observation> finished);

    /** Every point of the space's grid, in order (the last parameter changes fastest); every parameter must be a list. */
    static Search grid(SearchSpace space) {
        return new GridSearch(space);
    }

    /** Independent draws: each list's values equally likely, each range uniform (or log-uniform). */
    static Search random(SearchSpace space, long seed) {
        return new RandomSearch(space, seed);
    }

    /** The tree-structured Parzen estimator ({@link TpeSearch}) with its default settings. */
    static Search tpe(SearchSpace space, long seed) {
        return new TpeSearch(space, seed, TpeSearch.DEFAULT_STARTUP, TpeSearch.DEFAULT_CANDIDATES, TpeSearch.DEFAULT_GAMMA);
    }
}
