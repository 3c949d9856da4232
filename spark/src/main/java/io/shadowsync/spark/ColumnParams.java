package io.shadowsync.spark;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.param.StringArrayParam;

/**
 * The columns an estimator and its model share, under Spark ML's usual names: where the label and the features are
 * read from, and where the scores go. Features are one ML Vector column ({@code featuresCol}), or, for CTR models,
 * dense number columns plus categorical id columns ({@code denseCols}, {@code categoricalCols}; when either is given
 * the vector column is not used).
 */
public interface ColumnParams extends Params {
    /** The column params of this estimator or model ({@link Defs#of}, made in its constructor). Public, as Spark ML reads
     * the params through these default methods by reflection. */
    Defs cols();

    // Spark ML finds params by public no-argument methods returning a Param: these defaults count (Class#getMethods)
    default Param<String> labelCol() {
        return cols().label();
    }

    default Param<String> featuresCol() {
        return cols().features();
    }

    default StringArrayParam denseCols() {
        return cols().dense();
    }

    default StringArrayParam categoricalCols() {
        return cols().categorical();
    }

    default Param<String> predictionCol() {
        return cols().prediction();
    }

    default Param<String> probabilityCol() {
        return cols().probability();
    }

    default Param<String> rawPredictionCol() {
        return cols().rawPrediction();
    }

    default String getLabelCol() {
        return $(labelCol());
    }

    default String getFeaturesCol() {
        return $(featuresCol());
    }

    default String[] getDenseCols() {
        return $(denseCols());
    }

    default String[] getCategoricalCols() {
        return $(categoricalCols());
    }

    default String getPredictionCol() {
        return $(predictionCol());
    }

    default String getProbabilityCol() {
        return $(probabilityCol());
    }

    default String getRawPredictionCol() {
        return $(rawPredictionCol());
    }

    /** The column params of owner with their defaults (label, features, no dense/categorical columns, ...). */
    record Defs(Param<String> label, Param<String> features, StringArrayParam dense, StringArrayParam categorical,
               Param<String> prediction, Param<String> probability, Param<String> rawPrediction) implements java.io.Serializable {
        static Defs of(Params owner) {
            Defs s = new Defs(new Param<>(owner, "labelCol", "label column: 0/1 for binary, 0..C-1 for C classes, a number for regression"),
                    new Param<>(owner, "featuresCol", "features column: an ML Vector of dense features"),
                    new StringArrayParam(owner, "denseCols", "dense feature columns (numbers), instead of featuresCol; with categoricalCols for CTR models"),
                    new StringArrayParam(owner, "categoricalCols", "categorical columns: integer ids, or strings hashed to one"),
                    new Param<>(owner, "predictionCol", "prediction column: the class, or the regression value"),
                    new Param<>(owner, "probabilityCol", "probability column: the class probabilities (classification)"),
                    new Param<>(owner, "rawPredictionCol", "raw prediction column: the scores BinaryClassificationEvaluator reads (classification)"));
            owner.setDefault(s.label, "label");
            owner.setDefault(s.features, "features");
            owner.setDefault(s.dense, new String[0]);
            owner.setDefault(s.categorical, new String[0]);
            owner.setDefault(s.prediction, "prediction");
            owner.setDefault(s.probability, "probability");
            owner.setDefault(s.rawPrediction, "rawPrediction");
            return s;
        }
    }
}
