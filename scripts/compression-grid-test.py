#!/usr/bin/env python3
"""Tests of scripts/compression-grid.py on made-up summaries:  python3 scripts/compression-grid-test.py"""
import importlib.util
import json
import os
import tempfile
import unittest

spec = importlib.util.spec_from_file_location(
    "compression_grid", os.path.join(os.path.dirname(os.path.abspath(__file__)), "compression-grid.py"))
grid = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grid)


def summary(model, rounds, seconds, bytes_per_round, ratio, examples_per_sec, logloss, accuracy=None):
    ev = {"logloss": logloss}
    if accuracy is not None:
        ev["accuracy"] = accuracy
    return {"model": model, "seconds": seconds, "examples_per_sec": examples_per_sec, "worker_wait_fraction": 0.1,
            "sync": {"rounds_per_trainer": rounds, "mean_round_ms": [10.0] * len(rounds),
                     "bytes_per_round": bytes_per_round, "compression_ratio": ratio}, "eval": ev}


class CompressionGridTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = self.tmp.name
        os.mkdir(os.path.join(self.out, "summaries"))

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, cell, s):
        with open(os.path.join(self.out, "summaries", cell + ".json"), "w") as f:
            json.dump(s, f)

    def test_a_cell_name_and_summary_make_one_row_of_trainer_0_and_the_mean_rounds(self):
        # trainer 0's bytes, not the mean or the last; rounds/s from the mean rounds, not their sum
        row = grid.row_of("dlrm-100mbit-n4-s-gossip-topk_0.01-r2",
                          summary("dlrm", [10, 20, 30, 40], 5.0, [600, 700, 800, 900], [24.0, 1, 1, 1], 3000.0, 0.54,
                                  accuracy=0.7))
        self.assertEqual(("dlrm", "100mbit", 4, "s-gossip", "topk:0.01", 2),
                         (row["model"], row["network"], row["n"], row["algorithm"], row["codec"], row["rep"]))
        self.assertEqual(600, row["bytes_per_round"])
        self.assertEqual(24.0, row["compression_ratio"])
        self.assertAlmostEqual(5.0, row["rounds_per_sec"])  # mean 25 rounds over 5 s
        self.assertEqual(0.54, row["eval_logloss"])
        self.assertIsNone(row["eval_accuracy"])  # a CTR model's accuracy is not its metric
        self.assertEqual("int8:stochastic",
                         grid.row_of("mlp-1gbit-n8-s-ma-int8_stochastic-r1",
                                     summary("mlp", [1], 1.0, [1], [1], 1.0, 0.5, 0.8))["codec"])

    def test_a_name_that_is_no_cell_is_refused(self):
        with self.assertRaises(ValueError):
            grid.row_of("dlrm-100mbit-s-ma-none", summary("dlrm", [1], 1.0, [1], [1], 1.0, 0.5))

    def test_tables_show_the_median_of_repetitions_in_grid_order_and_list_every_repetition(self):
        for rep, (acc, eps) in enumerate([(0.80, 100.0), (0.90, 300.0), (0.82, 200.0)], start=1):
            self.put(f"mlp-100mbit-n8-s-ma-none-r{rep}", summary("mlp", [10] * 8, 2.0, [1646024] * 8, [1.0] * 8,
                                                                 eps, 0.5, acc))
        self.put("mlp-100mbit-n8-s-ma-topk_0.01-r1", summary("mlp", [40] * 8, 2.0, [131700] * 8, [12.5] * 8,
                                                             150.0, 0.6, 0.79))
        self.put("mlp-100mbit-n4-s-gossip-fp16-r1", summary("mlp", [4] * 4, 2.0, [940000] * 4, [2.0] * 4,
                                                            150.0, 0.6, 0.84))
        self.put("mlp-1gbit-n4-s-ma-none-r1", summary("mlp", [4] * 4, 2.0, [1410876] * 4, [1.0] * 4,
                                                      150.0, 0.6, 0.85))
        with open(os.path.join(self.out, "load.tsv"), "w") as f:
            f.write("mlp-100mbit-n8-s-ma-none-r1\t18:00:00\t9.00 5.00 4.00\n")
            f.write("mlp-100mbit-n8-s-ma-none-r2\t18:00:10\t3.00 5.00 4.00\n")
            f.write("mlp-100mbit-n8-s-ma-none-r3\t18:00:20\t4.00 5.00 4.00\n")
            f.write("mlp-100mbit-n8-s-ma-topk_0.01-r1\t18:00:30\t12.00 5.00 4.00\n")  # a first try that failed
            f.write("mlp-100mbit-n8-s-ma-topk_0.01-r1\t18:01:30\t2.50 5.00 4.00\n")  # the rerun
        rows = grid.read_rows(self.out)
        self.assertEqual(6, len(rows))
        md = grid.markdown(rows)
        lines = md.splitlines()
        # one table per network, N = 4 before N = 8, the codecs in the grid's order
        self.assertLess(lines.index("MLP, 100mbit (bytes per round and ratio: trainer 0)"),
                        lines.index("MLP, 1gbit (bytes per round and ratio: trainer 0)"))
        body = [l for l in lines if l.startswith("| 4 |") or l.startswith("| 8 |")]
        self.assertEqual("| 4 | s-gossip | `fp16` | 940,000 | 2.0 | 2.0 | 150 | 0.8400 |  |", body[0])
        # the median of three (0.82 and 200, not the mean 0.84 or the last run), marked
        self.assertEqual("| 8 | s-ma | `none` (median of 3) | 1,646,024 | 1.0 | 5.0 | 200 | 0.8200 | 4.0 |", body[1])
        self.assertEqual("| 8 | s-ma | `topk:0.01` | 131,700 | 12.5 | 20 | 150 | 0.7900 | 2.5 |", body[2])
        self.assertIn("| eval accuracy |", md)
        self.assertIn("| MLP | 100mbit | 8 | s-ma | `none` | 5.0 / 5.0 / 5.0 | 100 / 300 / 200 | "
                      "0.8000 / 0.9000 / 0.8200 | 9.0 / 3.0 / 4.0 |", lines)
        grid.write_tsv(rows, os.path.join(self.out, "grid.tsv"))
        with open(os.path.join(self.out, "grid.tsv")) as f:
            tsv = [l.rstrip("\n").split("\t") for l in f]
        self.assertEqual(grid.COLUMNS, tsv[0])
        self.assertEqual(7, len(tsv))
        self.assertEqual(["mlp", "100mbit", "8", "s-ma", "none", "2"], tsv[3][:6])

    def test_the_chart_is_a_png_where_matplotlib_is_installed(self):
        self.put("dlrm-100mbit-n4-s-ma-none-r1", summary("dlrm", [10] * 4, 2.0, [153324] * 4, [1.0] * 4, 3000.0, 0.54))
        self.put("dlrm-100mbit-n4-s-ma-fp16-r1", summary("dlrm", [14] * 4, 2.0, [76684] * 4, [2.0] * 4, 3100.0, 0.54))
        png = os.path.join(self.out, "c.png")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.assertFalse(grid.chart(grid.read_rows(self.out), png))
            self.skipTest("matplotlib is not installed")
        self.assertTrue(grid.chart(grid.read_rows(self.out), png))
        with open(png, "rb") as f:
            self.assertEqual(b"\x89PNG", f.read(4))


if __name__ == "__main__":
    unittest.main()
