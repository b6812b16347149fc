"""No JSON the pipeline writes holds NaN or Infinity (issue 27): a metric a split cannot give is
null with its reason, and a non-finite value that slips through is refused, naming the field.

    /usr/bin/python3 -m unittest discover -s training -p 'test_common.py'
"""
import json
import os
import tempfile
import unittest

import numpy as np

import common
import finetune
import quantize


class TestNoNaNInJSON(unittest.TestCase):
    def test_write_json_refuses_nan_and_keeps_the_old_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.manifest.json")
            common.write_json(path, {"ok": 1})
            for bad in (float("nan"), float("inf"), -float("inf")):
                with self.assertRaises(ValueError) as e:
                    common.write_json(path, {"provenance": {"metrics": [{"roc_auc": bad}]}})
                self.assertIn(path, str(e.exception))
                self.assertIn("$.provenance.metrics[0].roc_auc", str(e.exception))
            self.assertEqual(json.load(open(path)), {"ok": 1})
            self.assertEqual(os.listdir(d), ["m.manifest.json"])

    def test_one_class_split_gives_null_with_its_reason(self):
        # (the retired EfficientNet's train.metrics: legacy/test_legacy.py)
        clean = [(np.array([0.1, 0.3]), np.array([0, 0]), False), (np.array([0.2, 0.5]), np.array([0, 0]), False)]
        s = finetune.summarise([(np.array([-2.0, 1.0]), np.array([1, 1]), True)])
        self.assertIsNone(s["patch_auc"])
        self.assertIn(common.ONE_CLASS, s["patch_auc_why"])
        # both go through the writer, and read back as null, as the Go side reads them
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "v.json")
            common.write_json(path, {"real-masked": finetune.summarise(clean), "real-weak": s})
            back = json.load(open(path), parse_constant=lambda c: self.fail(f"{c} in {path}"))
            self.assertIsNone(back["real-weak"]["patch_auc"])
        # the objective and the plain sentence on real steel take a null AUC
        finetune.objective({"real-weak": [(np.array([-2.0, 1.0]), None, True)], "real-masked": [clean[0]]}, 1.0, 0.0)
        self.assertIn("real Severstal strips", finetune.describe_real({"real-masked": finetune.summarise(
            [(np.array([-3.0, -2.0]), np.array([0, 0]), False)])}))

    def test_both_classes_give_a_number(self):
        s = finetune.summarise([(np.array([-2.0, 1.0]), np.array([0, 1]), True)])
        self.assertEqual(s["patch_auc"], 1.0)
        self.assertNotIn("patch_auc_why", s)

    def test_go_report_with_null_auc(self):
        rep = {"strip": {"missed": 0, "false_alarms": 0, "review_rate": 0.5},
               "patch": {"recall_at_pass": 0.0, "precision_at_pass": 0.0, "roc_auc": None,
                         "confusion_at_pass": {"tp": 0, "fp": 1, "tn": 3, "fn": 0}}}
        self.assertIsNone(quantize.go_metrics(rep)["roc_auc"])
        rep["patch"]["auc_why"] = "one class only in this split (0 defective, 4 defect-free patches)"
        self.assertEqual(quantize.go_metrics(rep)["roc_auc_why"], rep["patch"]["auc_why"])


if __name__ == "__main__":
    unittest.main()
