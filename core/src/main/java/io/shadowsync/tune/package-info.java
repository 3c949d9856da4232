/**
 * Hyperparameter search and cross-validation on the embedded runtime (docs/tuning.md): a {@link
 * io.shadowsync.tune.SearchSpace} of named parameters, each a list of values or a numeric range; the searches that
 * propose trials from it ({@link io.shadowsync.tune.Search}: grid, random, and the tree-structured Parzen estimator
 * {@link io.shadowsync.tune.TpeSearch}); {@link io.shadowsync.tune.Asha}, which stops trials that fall behind at a rung;
 * {@link io.shadowsync.tune.Tuner}, which runs trials as {@link io.shadowsync.api.TrainingJob}s side by side within a
 * budget of cores, on data loaded once; and {@link io.shadowsync.tune.Folds} and {@link
 * io.shadowsync.tune.CrossValidation} for k-fold cross-validation (stratified, or grouped by a key).
 */
package io.shadowsync.tune;
