"""Quick checks of the training pipeline (CPU, < 2 min):

    /usr/bin/python3 -m unittest discover -s training
"""
import csv
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402
import synth  # noqa: E402


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


class TestSynthAndTiny(unittest.TestCase):
    def test_synth_tiny_train_export(self):
        import onnx
        import train
        import export
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
            run = os.path.join(d, "run")
            train.main(["--config", "tiny", "--data", data, "--val", data, "--out", run])
            self.assertTrue(os.path.exists(os.path.join(run, "best.pt")))
            onnx_path = os.path.join(d, "m.onnx")
            export.main(["--ckpt", os.path.join(run, "best.pt"), "--onnx", onnx_path, "--heldout", data,
                         "--trained-on", "test"])
            m = onnx.load(onnx_path)
            onnx.checker.check_model(m)
            self.assertEqual([i.name for i in m.graph.input], ["input"])
            self.assertEqual([o.name for o in m.graph.output], ["probability"])
            dims = m.graph.input[0].type.tensor_type.shape.dim
            self.assertEqual(dims[0].dim_param, "N")
            self.assertEqual([x.dim_value for x in dims[1:]], [3, 256, 256])
            odims = m.graph.output[0].type.tensor_type.shape.dim
            self.assertEqual(odims[0].dim_param, "N")
            self.assertEqual(odims[1].dim_value, 1)
            man = json.load(open(os.path.join(d, "m.manifest.json")))
            self.assertEqual(man["input"]["name"], "input")
            self.assertEqual(man["output"]["name"], "probability")
            self.assertEqual(man["file"], "m.onnx")
            self.assertEqual(len(man["sha256"]), 64)
            self.assertIn("confusion_at_pass", man["provenance"]["metrics"])

            # Whole-strip variant: fine-tune from the per-patch checkpoint, export.
            import train_strip
            srun = os.path.join(d, "strip")
            train_strip.main(["--init", os.path.join(run, "best.pt"), "--data", data, "--val", data, "--out", srun,
                              "--steps", "2", "--batch", "2", "--limit", "4", "--val-limit", "2"])
            spath = os.path.join(d, "s.onnx")
            export.main(["--ckpt", os.path.join(srun, "best.pt"), "--onnx", spath, "--heldout", data])
            sm = onnx.load(spath)
            dims = sm.graph.input[0].type.tensor_type.shape.dim
            self.assertEqual([dims[1].dim_value, dims[2].dim_param, dims[3].dim_param], [3, "H", "W"])
            self.assertEqual(len(sm.graph.output[0].type.tensor_type.shape.dim), 3)
            sman = json.load(open(os.path.join(d, "s.manifest.json")))
            self.assertEqual(sman["variant"], "whole-strip")
            self.assertEqual(sman["input"]["cell"], 32)
            self.assertIn("roc_auc", sman["provenance"]["metrics"])


class TestStripModel(unittest.TestCase):
    def test_one_window_is_the_patch_model(self):
        """On a single 256x256 patch the window pool is the global pool: StripNet built from a
        per-patch model gives that model's logit."""
        import torch
        import train
        from strip_model import StripNet
        torch.manual_seed(0)
        pm = train.build_model().eval()
        net = StripNet(pm).eval()
        x = torch.randn(2, 3, 256, 256)
        with torch.no_grad():
            a = pm(x).view(-1)
            b = net(x).view(-1)
        self.assertTrue(torch.allclose(a, b, atol=1e-4), (a, b))
        with torch.no_grad():
            self.assertEqual(tuple(net(torch.randn(1, 3, 256, 1600)).shape), (1, 1, 43))

    def test_window_labels_match_patch_labels(self):
        from strip_model import grid_indices, window_labels
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


class TestActivation(unittest.TestCase):
    def test_relu6_variant_loads_silu_weights(self):
        import torch.nn as nn
        import train
        silu, relu6 = train.build_model("silu"), train.build_model("relu6")
        self.assertFalse(any(isinstance(m, nn.SiLU) for m in relu6.modules()))
        self.assertEqual(sum(isinstance(m, nn.ReLU6) for m in relu6.modules()),
                         sum(isinstance(m, nn.SiLU) for m in silu.modules()))
        relu6.load_state_dict(silu.state_dict())
        with self.assertRaises(ValueError):
            train.build_model("gelu")


class TestAverage(unittest.TestCase):
    def test_average_state(self):
        import torch
        import average
        a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(5)}
        b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(9)}
        out = average.average_state([a, b])
        self.assertTrue(torch.equal(out["w"], torch.tensor([2.0, 4.0])))
        self.assertEqual(out["w"].dtype, torch.float32)
        self.assertEqual(int(out["n"]), 5)  # integer buffers: the first checkpoint's


class TestFromONNX(unittest.TestCase):
    def test_round_trip_through_exported_graph(self):
        """A whole-strip net with non-trivial BatchNorm statistics, exported (BatchNorm folded,
        calibration baked in), comes back from the ONNX file as a checkpoint that gives the
        same logits in eval mode, keeps the calibration, and whose BatchNorm layers carry
        the measured statistics (train mode close to eval mode on the same strips)."""
        import torch
        import torch.nn as nn
        import export
        import from_onnx
        import train
        import train_strip
        from strip_model import StripNet
        torch.manual_seed(3)
        net = StripNet(train.build_model("relu6"))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.1, 0.1)
        net.eval()
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "data")
            synth.generate(data, 4, seed=7, defect_fraction=0.5, workers=1)
            onnx_path = os.path.join(d, "s.onnx")
            export.export_onnx(train.Calibrated(net, 0.5, 0.25), onnx_path, whole_strip=True)
            ck_path = os.path.join(d, "back.pt")
            from_onnx.main(["--onnx", onnx_path, "--data", data, "--count", "4", "--out", ck_path])
            back, ck = train_strip.load_strip_model(ck_path)
            self.assertEqual(ck["variant"], "whole-strip")
            self.assertEqual(ck["act"], "relu6")
            self.assertAlmostEqual(ck["calib"]["a"], 0.5, places=6)
            self.assertAlmostEqual(ck["calib"]["b"], 0.25, places=6)
            strips = dataset.StripSet(data).images
            x = torch.cat([train.strip_tensor(im) for im in strips])
            with torch.no_grad():
                want = net(x)
                got = back(x)
                self.assertLess(float((want - got).abs().max()), 1e-3)
                bns = [m for m in back.modules() if isinstance(m, nn.BatchNorm2d)]
                self.assertTrue(all(float(m.running_var.min()) > 0 for m in bns))
                self.assertGreater(float(sum((m.weight - 1).abs().mean() for m in bns)), 0.1)
                back.train()
                drift = float((back(x) - got).abs().mean())
            self.assertLess(drift, 1.0, "train-mode BatchNorm should start near the folded network")


if __name__ == "__main__":
    unittest.main()
