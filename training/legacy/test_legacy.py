"""Quick checks of the retired EfficientNet scripts (legacy/): a tiny per-patch run and its export,
the whole-strip variant, the ReLU6 swap, checkpoint averaging, and reading a model back from its
ONNX file (CPU, about a minute on an idle machine):

    /usr/bin/python3 -m unittest discover -s training -p 'test_legacy.py'
"""
import json
import os
import tempfile
import unittest

import numpy as np

import common
import dataset
import synth


class TestMetrics(unittest.TestCase):
    def test_one_class_split_gives_null_with_its_reason(self):
        """(issue 27) train.metrics on a split with one class writes a null AUC with its reason."""
        from legacy import train
        clean = [(np.array([0.1, 0.3]), np.array([0, 0]), False), (np.array([0.2, 0.5]), np.array([0, 0]), False)]
        m = train.metrics(clean)
        self.assertIsNone(m["roc_auc"])
        self.assertEqual(m["roc_auc_why"], "one class only in this split (0 defective, 4 defect-free)")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "v.json")
            common.write_json(path, {"metrics": m})
            with open(path) as f:
                back = json.load(f, parse_constant=lambda c: self.fail(f"{c} in {path}"))
            self.assertIsNone(back["metrics"]["roc_auc"])


class TestTiny(unittest.TestCase):
    def test_synth_tiny_train_export(self):
        import onnx
        from legacy import export, train
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
            from legacy import train_strip
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
        from legacy import train
        from legacy.strip_model import StripNet
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


class TestActivation(unittest.TestCase):
    def test_relu6_variant_loads_silu_weights(self):
        import torch.nn as nn
        from legacy import train
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
        from legacy import average
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
        from legacy import export, from_onnx, train, train_strip
        from legacy.strip_model import StripNet
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
