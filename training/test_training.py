"""Quick checks of the shipped training pipeline's data side: RLE, tiling, the Severstal readers,
the synthetic generator, the 32-px window grid and the INT8 graph rewriting (CPU, seconds). The
retired EfficientNet scripts have theirs in legacy/test_legacy.py, all run by:

    /usr/bin/python3 -m unittest discover -s training
"""
import csv
import os
import tempfile
import unittest

import numpy as np

import dataset
import synth


class TestRLE(unittest.TestCase):
    def test_round_trip(self):
        rng = np.random.default_rng(0)
        m = rng.random((256, 1600)) < 0.01
        m[:, 5] = True
        m[0:10, 1599] = True
        self.assertTrue(np.array_equal(dataset.rle_decode(dataset.rle_encode(m)), m))
        self.assertTrue(np.array_equal(synth.rle_decode(synth.rle_encode(m)), m))
        self.assertEqual(dataset.rle_encode(m), synth.rle_encode(m))

    def test_column_major_one_indexed(self):
        m = np.zeros((256, 1600), bool)
        m[0, 0] = True          # pixel 1
        m[3, 2] = True          # 2*256 + 3 + 1 = 516
        m[10:13, 4] = True      # 4*256 + 10 + 1 = 1035, run of 3
        self.assertEqual(dataset.rle_encode(m), "1 1 516 1 1035 3")
        d = dataset.rle_decode("1 1 516 1 1035 3")
        self.assertTrue(np.array_equal(d, m))


class TestTiling(unittest.TestCase):
    def test_positions_1600x256(self):
        pos = dataset.tile_positions(1600, 256)
        self.assertEqual(len(pos), 12)
        self.assertEqual([x for _, x in pos], [0, 128, 256, 384, 512, 640, 768, 896, 1024, 1152, 1280, 1344])
        self.assertTrue(all(y == 0 for y, _ in pos))

    def test_positions_flush_bottom(self):
        pos = dataset.tile_positions(300, 300)
        self.assertEqual(sorted(set(y for y, _ in pos)), [0, 44])
        self.assertEqual(sorted(set(x for _, x in pos)), [0, 44])

    def test_labels_50px_rule(self):
        pos = dataset.tile_positions(1600, 256)
        m = np.zeros((256, 1600), bool)
        m[0:49, 10] = True            # 49 px in tile x=0 only -> not defective
        m[100:150, 700] = True        # 50 px at x=700: tiles 512 (512..767) and 640 (640..895)
        lab = dataset.patch_labels(m, pos)
        self.assertEqual(lab.tolist(), [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0])
        m[0:1, 1500:1600] = True      # 100 px in the last two tiles (1280..1535 gets 36, 1344..1599 gets 100)
        lab = dataset.patch_labels(m, pos)
        self.assertEqual(lab[-2:].tolist(), [0, 1])


class TestReaders(unittest.TestCase):
    def test_old_and_new_layout(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "train_images"))
            for n in ("a.jpg", "b.jpg"):
                open(os.path.join(d, "train_images", n), "wb").close()
            with open(os.path.join(d, "train.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["ImageId_ClassId", "EncodedPixels"])
                w.writerows([["a.jpg_1", "1 5"], ["a.jpg_2", ""], ["a.jpg_3", "10 3"], ["a.jpg_4", ""],
                             ["b.jpg_1", ""], ["b.jpg_2", ""], ["b.jpg_3", ""], ["b.jpg_4", ""]])
            ann = dataset.read_annotations(d)
            self.assertEqual(ann, {"a.jpg": [(1, "1 5"), (3, "10 3")], "b.jpg": []})


class TestSynth(unittest.TestCase):
    def test_synth_strips_in_the_severstal_layout(self):
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "data")
            rows = synth.generate(data, 6, seed=123, defect_fraction=0.5, workers=1)
            ann = dataset.read_annotations(data)
            self.assertEqual(len(ann), 6)
            self.assertEqual(sum(1 for v in ann.values() if v), 3)
            self.assertTrue(rows)
            for iid, rles in ann.items():
                img, m = dataset.load_strip(data, iid, rles)
                self.assertEqual(img.shape, (256, 1600))
                if rles:
                    self.assertGreaterEqual(int(m.sum()), synth.MIN_AREA)


class TestWindowGrid(unittest.TestCase):
    def test_window_labels_match_patch_labels(self):
        from common import grid_indices, window_labels
        rng = np.random.default_rng(1)
        m = np.zeros((256, 1600), bool)
        for _ in range(6):
            y, x = rng.integers(0, 250), rng.integers(0, 1590)
            m[y:y + rng.integers(1, 12), x:x + rng.integers(1, 40)] = True
        pos = dataset.tile_positions(1600, 256)
        wl = window_labels(m)
        self.assertEqual(wl.shape, (1, 43))
        grid = [int(wl[r, c]) for r, c in grid_indices(1600, 256)]
        self.assertEqual(grid, dataset.patch_labels(m, pos).tolist())


class TestQuantizeGraph(unittest.TestCase):
    def test_qdq_insertion(self):
        """QDQ rewriting of a Conv-SiLU-Conv graph with given ranges: per-channel int8 weights,
        int32 bias at input*weight scale, one Q/DQ pair per activation, a valid model."""
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        import quantize
        rng = np.random.default_rng(0)
        w1 = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
        w2 = rng.normal(size=(2, 4, 1, 1)).astype(np.float32)
        inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(np.ones(4, np.float32), "b1"),
                 numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(np.zeros(2, np.float32), "b2")]
        nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="/features/c1/Conv", pads=[1, 1, 1, 1]),
                 helper.make_node("Sigmoid", ["c1"], ["s1"], name="/features/a1/Sigmoid"),
                 helper.make_node("Mul", ["c1", "s1"], ["m1"], name="/features/a1/Mul"),
                 helper.make_node("Conv", ["m1", "w2", "b2"], ["out"], name="/features/c2/Conv")]
        g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, 8, 8])], inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        names = quantize.targets(model, "/features/")
        self.assertEqual(names, ["input", "c1", "s1", "m1"])
        ranges = {t: {"min": -2.0, "max": 6.0, "p_lo": -2.0, "p_hi": 6.0} for t in names}
        self.assertEqual(quantize.quantize(model, ranges, "/features/"), 2)
        ops = [n.op_type for n in model.graph.node]
        self.assertEqual(ops.count("QuantizeLinear"), 4)
        self.assertEqual(ops.count("Conv"), 2)
        init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.assertEqual(init["w1_q"].dtype, np.int8)
        self.assertTrue(np.allclose(init["w1_q"] * init["w1_q_scale"].reshape(-1, 1, 1, 1), w1, atol=init["w1_q_scale"].max()))
        self.assertEqual(init["b1_q"].dtype, np.int32)
        s_in = float(init["input_scale"])
        self.assertTrue(np.allclose(init["b1_q_scale"], s_in * init["w1_q_scale"]))
        self.assertAlmostEqual(s_in, 8.0 / 255, places=6)
        self.assertEqual(int(init["input_zp"]), round(2.0 / (8.0 / 255)))
        onnx.checker.check_model(model)

    def test_relu6_folded_into_conv_quantisation(self):
        """Conv -> Clip(0,6) read by a Conv and by a float GlobalAveragePool: the Clip is folded
        into the Conv's Q/DQ (zero point 0, so the clamp is exact), the Conv's only reader is
        its QuantizeLinear, and the rewritten graph computes what the float graph does."""
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        import quantize
        rng = np.random.default_rng(1)
        w1 = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
        w2 = rng.normal(size=(2, 4, 1, 1)).astype(np.float32)
        inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(np.zeros(4, np.float32), "b1"),
                 numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(np.zeros(2, np.float32), "b2"),
                 numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi")]
        nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="/features/c1/Conv", pads=[1, 1, 1, 1]),
                 helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"], name="/features/a1/Clip"),
                 helper.make_node("Conv", ["r1", "w2", "b2"], ["out"], name="/features/c2/Conv"),
                 helper.make_node("GlobalAveragePool", ["r1"], ["pooled"], name="/features/se/avgpool/GAP")]
        g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, 8, 8]),
                               helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, 4, 1, 1])], inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        names = quantize.targets(model, "/features/")
        self.assertEqual(names, ["input", "r1"])
        ranges = {"input": {"min": -1.0, "max": 1.0, "p_lo": -1.0, "p_hi": 1.0},
                  # as measured after the Clip; a negative percentile is pinned to 0 like quantize.main does
                  "r1": quantize.clipped_ranges({"r1": {"min": 0.0, "max": 5.0, "p_lo": -0.1, "p_hi": 5.0}})["r1"]}
        self.assertEqual(quantize.fuse_clips(model, set(names)), ["r1"])
        self.assertEqual(quantize.quantize(model, ranges, "/features/"), 2)
        ops = [n.op_type for n in model.graph.node]
        self.assertNotIn("Clip", ops)
        producer = {o: n for n in model.graph.node for o in n.output}
        self.assertEqual(producer["r1"].op_type, "Conv")
        readers = {n.name: n.op_type for n in model.graph.node if "r1" in n.input}
        self.assertEqual(list(readers.values()), ["QuantizeLinear"])
        gap = next(n for n in model.graph.node if n.op_type == "GlobalAveragePool")
        self.assertEqual(gap.input[0], "r1_dq")  # the float branch reads the clamped, dequantised tensor
        init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.assertEqual(int(init["r1_zp"]), 0)  # negatives quantise to exactly 0: the ReLU
        self.assertAlmostEqual(float(init["r1_scale"]), 5.0 / 255, places=6)  # saturates at the top: the 6
        onnx.checker.check_model(model)


if __name__ == "__main__":
    unittest.main()
