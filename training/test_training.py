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


if __name__ == "__main__":
    unittest.main()
