/**
 * shadowsync on Apache Spark: {@link io.shadowsync.spark.ShadowSyncClassifier} and
 * {@link io.shadowsync.spark.ShadowSyncRegressor} (Spark ML estimators) train in one barrier stage, one task per
 * trainer, each reading its partition as its share, with the net module's gRPC collectives and parameter servers between
 * the tasks; {@link io.shadowsync.spark.ShadowSyncModel} scores DataFrames with core's
 * {@link io.shadowsync.api.TrainedModel} and saves as Spark ML metadata plus a shadowsync model file;
 * {@link io.shadowsync.spark.SubmitMain} is the spark-submit entry point for a job file.
 */
package io.shadowsync.spark;
