"""The plant's fine-tuning command on a tiny real case (issue 14): a few real Severstal strips in the
full Kaggle layout, a handful of steps, then export, INT8, familiarity, and the model opened by the
Go engine. Needs ../shared/real-severstal and ../shared/pretrained (skips with a message otherwise).

    /usr/bin/python3 -m unittest discover -s training -p 'test_finetune.py'
"""
import csv
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import onnx
import torch

import finetune
from mnv2_model import PRETRAINED, MobileStripNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
REAL = os.path.join(SHARED, "real-severstal")


def need_shared(test):
    missing = [p for p in (os.path.join(REAL, "train.csv"), os.path.join(REAL, "image_labels_all_train.csv"), PRETRAINED)
               if not os.path.exists(p)]
    return unittest.skipIf(bool(missing), f"real data not here ({', '.join(missing)}): the shared folder beside "
                                          f"the checkout holds it")(test)


def kaggle_layout(d, n_masked=4, n_unmasked=2):
    """A small copy of the full Kaggle layout: train_images/ with masked strips and strips whose masks
    are unknown, masks in a partial RLE file, image-level labels for every image."""
    imgs = os.path.join(d, "train_images")
    os.makedirs(imgs)
    masked = sorted(os.listdir(os.path.join(REAL, "train_images")))[:n_masked]
    unmasked = sorted(os.listdir(os.path.join(REAL, "train_images_nomask")))[:n_unmasked]
    for f in masked:
        shutil.copy(os.path.join(REAL, "train_images", f), imgs)
    for f in unmasked:
        shutil.copy(os.path.join(REAL, "train_images_nomask", f), imgs)
    rle = os.path.join(d, "train_rle_partial.csv")
    with open(os.path.join(REAL, "train.csv"), newline="") as src, open(rle, "w", newline="") as dst:
        rows = list(csv.reader(src))
        w = csv.writer(dst)
        w.writerow(rows[0])
        w.writerows(r for r in rows[1:] if r[0] in masked)
    return masked, unmasked, rle


class TestReadersFullLayout(unittest.TestCase):
    @need_shared
    def test_defective_without_mask_is_not_clean(self):
        with tempfile.TemporaryDirectory() as d:
            masked, unmasked, rle = kaggle_layout(d)
            labels = finetune.read_image_labels(os.path.join(REAL, "image_labels_all_train.csv"))
            strips = {s.id: s for s in finetune.load_severstal(d, rle, labels)}
            self.assertEqual(set(strips), set(masked + unmasked))
            for f in masked:
                self.assertTrue(strips[f].defective)
                self.assertGreater(int(strips[f].mask.sum()), 0)
            for f in unmasked:
                # defective by its image-level label, mask unknown: never read as defect-free
                self.assertTrue(strips[f].defective)
                self.assertIsNone(strips[f].mask)
            # without the image-level labels, an image without mask rows is defect-free (Severstal's rule)
            plain = {s.id: s for s in finetune.load_severstal(d, rle, None)}
            for f in unmasked:
                self.assertFalse(plain[f].defective)
                self.assertEqual(int(plain[f].mask.sum()), 0)


class TestSplitReal(unittest.TestCase):
    def test_masks_train_and_mask_unknown_strips_only_validate(self):
        def strip(sid, mask):
            return finetune.Strip(sid, np.zeros((256, 256), np.uint8), mask, True, "real")
        real = [strip(f"{i:03d}.jpg", None if i % 3 == 0 else np.zeros((256, 256), bool)) for i in range(60)]
        tr, va = finetune.split_real(real, 0.33)
        self.assertTrue(all(s.mask is not None for s in tr))
        self.assertEqual(sorted(s.id for s in tr + va), sorted(s.id for s in real))  # each strip once
        picked = {s.id for s in real if finetune.is_validation(s.id, 0.33)}
        self.assertTrue(0 < len(picked) < 60)
        self.assertEqual({s.id for s in va}, picked | {s.id for s in real if s.mask is None})
        # with a validation folder, every strip of real trains unless its mask is unknown
        extra = [strip("val.jpg", np.zeros((256, 256), bool))]
        tr, va = finetune.split_real(real, 0.33, extra)
        self.assertEqual(len(tr), 40)
        self.assertEqual(va[0].id, "val.jpg")
        self.assertEqual(len(va), 21)


class TestLinearTop(unittest.TestCase):
    """--linear-top: the head reads the last layer before its ReLU6, and a run continued from a checkpoint of the
    other kind keeps its backbone and starts a new head."""

    def test_no_relu6_at_the_top_and_negative_features_pass(self):
        import torch
        from mnv2_model import MobileStripNet
        torch.manual_seed(0)
        plain, linear = MobileStripNet(None).eval(), MobileStripNet(None, linear_top=True).eval()
        self.assertIsInstance(plain.features[-1][-1], torch.nn.ReLU6)
        self.assertIsInstance(linear.features[-1][-1], torch.nn.Identity)
        linear.load_state_dict(plain.state_dict())
        x = torch.randn(1, 3, 256, 320)
        with torch.no_grad():
            fp, fl = plain.pooled(x), linear.pooled(x)
        self.assertGreaterEqual(float(fp.min()), 0.0)
        self.assertLess(float(fl.min()), 0.0)

    def test_continue_from_the_other_kind_keeps_the_backbone_only(self):
        import torch
        from mnv2_model import MobileStripNet
        torch.manual_seed(1)
        old = MobileStripNet(None)
        ck = {"model": old.state_dict()}  # an older checkpoint: no "linear_top" key
        same = MobileStripNet(None)
        self.assertEqual(finetune.continue_from(same, ck, "old.pt"), "continuing from old.pt")
        self.assertTrue(torch.equal(same.head[0].weight, old.head[0].weight))
        new = MobileStripNet(None, linear_top=True)
        head_before = new.head[0].weight.clone()
        msg = finetune.continue_from(new, ck, "old.pt")
        self.assertIn("new head", msg)
        self.assertTrue(torch.equal(new.features[-1][0].weight, old.features[-1][0].weight))
        self.assertTrue(torch.equal(new.head[0].weight, head_before))
        self.assertFalse(torch.equal(new.head[0].weight, old.head[0].weight))
        with self.assertRaises(SystemExit):
            finetune.continue_from(MobileStripNet(None, linear_top=True), {"model": {"x": torch.zeros(1)}}, "junk.pt")


class TestFinetuneTinyReal(unittest.TestCase):
    @need_shared
    def test_tiny_real_run_gives_a_model_the_station_opens(self):
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "kaggle")
            masked, unmasked, rle = kaggle_layout(data)
            out = os.path.join(d, "models", "plant.onnx")
            work = os.path.join(d, "work")
            # a teacher whose window probabilities are distilled: any TorchScript module on the same grid
            teacher = os.path.join(d, "teacher.pt")
            torch.jit.trace(MobileStripNet(None).eval(), torch.zeros(1, 3, 256, 256)).save(teacher)
            finetune.main(["--data", data, "--masks", rle, "--image-labels",
                           os.path.join(REAL, "image_labels_all_train.csv"), "--val-frac", "0.3", "--steps", "2",
                           "--batch", "2", "--crop", "256", "--calib-count", "2", "--out", out, "--work", work,
                           "--name", "plant-test", "--version", "0.0.1", "--teacher", teacher, "--gray-stem"])
            int8 = os.path.join(d, "models", "plant-int8.onnx")
            for model in (out, int8):
                with open(os.path.splitext(model)[0] + ".manifest.json") as f:
                    # NaN or Infinity is not JSON: the station refuses such a manifest (issue 27)
                    man = json.load(f, parse_constant=lambda c: self.fail(f"{c} in the manifest of {model}"))
                self.assertEqual(man["variant"], "whole-strip")
                self.assertEqual(man["output"]["features"], "features")
                # --gray-stem: one grey input channel, in the graph and in the manifest
                self.assertEqual(man["input"]["channels"], 1)
                self.assertEqual(len(man["preprocessing"]["mean"]), 1)
                graph_in = onnx.load(model).graph.input[0].type.tensor_type.shape.dim[1].dim_value
                self.assertEqual(graph_in, 1)
                fam = man["familiarity"]
                self.assertTrue(os.path.exists(os.path.join(d, "models", fam["file"])))
                self.assertGreater(fam["limit"], 0)
                self.assertGreaterEqual(fam["heldout_familiar"], 0.99)
                self.assertIn("real-masked", man["provenance"]["metrics_validation"])
                self.assertIn("real-weak", man["provenance"]["metrics_validation"])
            # the Go engine opens the INT8 model (hashes of the model and its familiarity file checked)
            # and scores a real strip with a familiarity score
            exe = os.path.join(work, "steelinspect")
            strip = os.path.join(data, "train_images", masked[0])
            res = subprocess.run([exe, "scan", "--model", int8, "--format", "jsonl", strip], cwd=ROOT,
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stderr)
            rec = json.loads(res.stdout.splitlines()[0])
            self.assertIn(rec["decision"], ("PASS", "REVIEW", "REJECT"))
            self.assertEqual(len(rec["patches"]), 12)
            self.assertIn("score", rec["familiarity"])


if __name__ == "__main__":
    unittest.main()
