package io.shadowsync.spark;

import io.shadowsync.data.Batch;
import io.shadowsync.data.DataException;
import io.shadowsync.data.DataSchema;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where a DataFrame row's example is: its label column, and either one features column (an ML {@link Vector}, all
 * dense features) or dense columns (numbers) plus categorical columns (integers taken as raw ids, strings hashed to
 * one). Resolved once on the driver against the DataFrame's schema and shipped to the tasks, which copy each row into
 * a {@link Batch} slot, as the file readers of core do.
 */
final class RowLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Column positions in the row: -1 where there is no label (scoring). */
    private final int label;
    /** The vector column, or -1 with dense/categorical columns. */
    private final int features;
    private final int[] dense;
    private final int[] cat;
    private final boolean[] catIsString;
    /** The layout, held as its parts: {@link DataSchema} is not serializable. */
    private final int numDense;
    private final int numClasses;

    private RowLayout(int label, int features, int[] dense, int[] cat, boolean[] catIsString, DataSchema schema) {
        this.label = label;
        this.features = features;
        this.dense = dense;
        this.cat = cat;
        this.catIsString = catIsString;
        this.numDense = schema.numDense();
        this.numClasses = schema.numClasses();
    }

    /**
     * The layout of rows with this schema. featuresCol is used when denseCols and catCols are both empty. labelCol
     * null: rows are scored, not trained on. vectorSize: the features vector's size when known (from the model or
     * the column's ML attributes), else -1 (then the first row tells it). Refuses a missing column or one of the
     * wrong type, naming it.
     */
    static RowLayout resolve(Dataset<?> data, String labelCol, String featuresCol, String[] denseCols, String[] catCols,
                             int numClasses, int vectorSize) {
        StructType s = data.schema();
        int label = labelCol == null ? -1 : column(s, labelCol, "label");
        if (label >= 0 && !(s.fields()[label].dataType() instanceof NumericType)) {
            throw new IllegalArgumentException("label column '" + labelCol + "' is " + s.fields()[label].dataType().simpleString() + ", not a number");
        }
        if (denseCols.length == 0 && catCols.length == 0) {
            int f = column(s, featuresCol, "features");
            StructField field = s.fields()[f];
            if (!field.dataType().equals(SQLDataTypes.VectorType())) {
                throw new IllegalArgumentException("features column '" + featuresCol + "' is " + field.dataType().simpleString()
                        + ", not an ML Vector (assemble one with VectorAssembler, or give setDenseCols/setCategoricalCols)");
            }
            int size = vectorSize >= 0 ? vectorSize : AttributeGroup.fromStructField(field).size();
            if (size < 0) {
                Object first = data.toDF().select(featuresCol).head().get(0);
                if (!(first instanceof Vector v)) throw new IllegalArgumentException("features column '" + featuresCol + "': the first row has no vector");
                size = v.size();
            }
            return new RowLayout(label, f, new int[0], new int[0], new boolean[0], new DataSchema(size, 0, false, 0, numClasses));
        }
        int[] d = new int[denseCols.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = column(s, denseCols[i], "dense");
            if (!(s.fields()[d[i]].dataType() instanceof NumericType)) {
                throw new IllegalArgumentException("dense column '" + denseCols[i] + "' is " + s.fields()[d[i]].dataType().simpleString() + ", not a number");
            }
        }
        int[] c = new int[catCols.length];
        boolean[] str = new boolean[catCols.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = column(s, catCols[i], "categorical");
            DataType t = s.fields()[c[i]].dataType();
            str[i] = t.equals(DataTypes.StringType);
            boolean integral = t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
                    || t.equals(DataTypes.ByteType);
            if (!str[i] && !integral) {
                throw new IllegalArgumentException("categorical column '" + catCols[i] + "' is " + t.simpleString() + ": give integer ids or strings");
            }
        }
        return new RowLayout(label, -1, d, c, str, new DataSchema(d.length, c.length, false, 0, numClasses));
    }

    private static int column(StructType s, String name, String what) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("no " + what + " column given");
        List<String> names = new ArrayList<>(Arrays.asList(s.fieldNames()));
        int i = names.indexOf(name);
        if (i < 0) throw new IllegalArgumentException(what + " column '" + name + "' is not in the data (its columns: " + String.join(", ", names) + ")");
        return i;
    }

    /** The examples' layout (features and labels). */
    DataSchema schema() {
        return new DataSchema(numDense, cat.length, false, 0, numClasses);
    }

    /** This layout for scoring: the same features, no label. */
    RowLayout withoutLabel() {
        return new RowLayout(-1, features, dense, cat, catIsString, schema());
    }

    /**
     * Copies row into slot {@code b.size} and grows the batch by one. A null, non-finite or (for classes) invalid value
     * is refused naming the column's position and the row's place (where: e.g. "spark partition 3"; rowNo counts from 1).
     */
    void append(Row row, Batch b, String where, long rowNo) {
        DataSchema schema = schema();
        int k = b.size;
        float y = 0;
        if (label >= 0) {
            if (row.isNullAt(label)) throw new DataException(where, rowNo, "the label is null");
            double v = ((Number) row.get(label)).doubleValue();
            int c = schema.numClasses();
            if (!Double.isFinite(v)) throw new DataException(where, rowNo, "the label is " + v);
            if (c > 0 && (v != Math.rint(v) || v < 0 || v >= c)) {
                throw new DataException(where, rowNo, "label " + v + " is not a class 0.." + (c - 1));
            }
            y = (float) v;
        }
        b.labels[k] = y;
        int nd = schema.numDense();
        if (features >= 0) {
            if (row.isNullAt(features)) throw new DataException(where, rowNo, "the features vector is null");
            Vector v = (Vector) row.get(features);
            if (v.size() != nd) throw new DataException(where, rowNo, "the features vector has " + v.size() + " values, expected " + nd);
            for (int j = 0; j < nd; j++) b.dense[k * nd + j] = finite((float) v.apply(j), where, rowNo, "feature " + j);
        } else {
            for (int j = 0; j < nd; j++) {
                int col = dense[j];
                if (row.isNullAt(col)) throw new DataException(where, rowNo, "dense column " + j + " is null");
                b.dense[k * nd + j] = finite(((Number) row.get(col)).floatValue(), where, rowNo, "dense column " + j);
            }
            int nc = schema.numCat();
            for (int j = 0; j < nc; j++) {
                int col = cat[j];
                // a missing categorical field is id 0, as in a Criteo file's empty field
                b.cat[k * nc + j] = row.isNullAt(col) ? 0 : catIsString[j] ? row.getString(col).hashCode() : ((Number) row.get(col)).intValue();
            }
        }
        if (b.sparseOffsets != null) b.sparseOffsets[k + 1] = b.sparseOffsets[k];
        b.size = k + 1;
    }

    private static float finite(float v, String where, long rowNo, String what) {
        if (!Float.isFinite(v)) throw new DataException(where, rowNo, what + " is " + v);
        return v;
    }
}
