#!/usr/bin/env python3
"""Export a checkpoint to ONNX (opset 17, sigmoid in the graph) and write the manifest
with held-out metrics computed with the PyTorch model.

per-patch (train.py checkpoints): input `input` [N,3,256,256] -> `probability` [N,1]
whole-strip (train_strip.py checkpoints, see strip_model.py): input `input` [1,3,H,W]
    -> `probability` [1,H/32-7,W/32-7], manifest variant "whole-strip", input.cell 32

  PYTHONPATH=training python3 -m legacy.export --ckpt .cache/run-cpu/best.pt --onnx models/steel-effnetb0.onnx \
      --heldout testdata/heldout --trained-on "..." --training "..."
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch

from dataset import StripSet
from common import dumps, rounded, write_json
from legacy.evaluate import load_model
from legacy.train import ACTIVATIONS, MEAN, STD, Calibrated, WithSigmoid, fit_logit_calibration, strip_predictions
from legacy.train import metrics as metrics_of
from legacy import train_strip


def predictions(model, ds, whole_strip, raw=False):
    """Per-strip (scores, labels, defective) with the engine's tiling, for either variant."""
    if whole_strip:
        return train_strip.strip_predictions(model, ds, raw=raw)
    return strip_predictions(model.float(), ds, channels_last=False, raw=raw)


def fit_calibration(model, val_dir, whole_strip, t_pass=0.40, t_reject=0.65):
    """Affine logit calibration chosen on the VALIDATION split (train.fit_logit_calibration)
    -> (a, b, metrics after, metrics before, strips)."""
    ds = StripSet(val_dir)
    res = predictions(model, ds, whole_strip, raw=True)
    a, b, after = fit_logit_calibration(res, t_pass, t_reject)
    base = metrics_of([(1 / (1 + np.exp(-l)), lab, d) for l, lab, d in res], t_pass, t_reject)
    return a, b, after, base, len(ds)


def heldout_metrics(model, folder, whole_strip):
    """The manifest's metric set on a held-out folder, with the PyTorch model."""
    m = metrics_of(predictions(model, StripSet(folder), whole_strip))
    out = {k: m[k] for k in ("strip_missed", "strip_false_reject", "review_rate", "patch_recall_at_pass",
                             "patch_precision_at_pass", "roc_auc", "confusion_at_pass")}
    for k in ("review_rate", "patch_recall_at_pass", "patch_precision_at_pass", "roc_auc"):
        out[k] = rounded(out[k])
    if "roc_auc_why" in m:
        out["roc_auc_why"] = m["roc_auc_why"]
    print(f"{folder}: decisions {m['decisions']}, strips {m['strips']}", file=sys.stderr)
    return out


def export_onnx(model, path, whole_strip=False):
    wrapped = WithSigmoid(model.float().eval()).eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if whole_strip:
        dummy = torch.zeros(1, 3, 256, 512)
        axes = {"input": {2: "H", 3: "W"}, "probability": {1: "rows", 2: "cols"}}
    else:
        dummy = torch.zeros(2, 3, 256, 256)
        axes = {"input": {0: "N"}, "probability": {0: "N"}}
    torch.onnx.export(wrapped, dummy, path, opset_version=17, input_names=["input"],
                      output_names=["probability"], dynamic_axes=axes, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--heldout", default=None, help="folder to compute manifest metrics on")
    ap.add_argument("--heldout-desc", default="testdata/heldout (seed 3003, 60 strips, 30 defective, JPEG q90)")
    ap.add_argument("--heldout-wide", default=None,
                    help="second held-out folder (generator style wide) for the manifest's metrics_wide")
    ap.add_argument("--heldout-wide-desc",
                    default="testdata/heldout-wide (seed 3004, 60 strips, 30 defective, synth.py --style wide)")
    ap.add_argument("--trained-on", default="")
    ap.add_argument("--training", default="")
    ap.add_argument("--calibrate-on", default=None,
                    help="validation folder to fit an affine logit calibration on (baked into the graph)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--act", choices=ACTIVATIONS, default=None,
                    help="override the checkpoint's activation (speed probes of an architecture before training it)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    ck = torch.load(a.ckpt, map_location="cpu")
    whole_strip = ck.get("variant") == "whole-strip"
    if whole_strip:
        model, ck = train_strip.load_strip_model(a.ckpt, a.act)
        if "calib" in ck:
            model = Calibrated(model, ck["calib"]["a"], ck["calib"]["b"]).eval()
    else:
        model, ck = load_model(a.ckpt)
    calib_note = ""
    if a.calibrate_on:
        ca, cb, cm, base, nval = fit_calibration(model, a.calibrate_on, whole_strip)
        print(f"calibration on {a.calibrate_on}: a={ca} b={cb:.2f}; val before: {dumps(base)}; "
              f"val after: {dumps(cm)}", file=sys.stderr)
        model = Calibrated(model, ca, cb).eval()
        calib_note = (f"; logit calibration a={ca:g} b={cb:.2f} fitted on the validation split "
                      f"({nval} strips, not the held-out set)")
        cpath = os.path.join(os.path.dirname(os.path.abspath(a.ckpt)), "calibrated.pt")
        torch.save({**ck, "calib": {"a": ca, "b": cb}}, cpath)
        print(f"wrote {cpath}", file=sys.stderr)
    export_onnx(model, a.onnx, whole_strip)
    metrics = heldout_metrics(model, a.heldout, whole_strip) if a.heldout else {}
    metrics_wide = heldout_metrics(model, a.heldout_wide, whole_strip) if a.heldout_wide else {}
    training = a.training or (f"config={ck.get('config')}, steps={ck.get('step')}, patches seen={ck.get('seen')}, "
                              f"elapsed={ck.get('elapsed_s', 0) / 60:.1f} min")
    training += calib_note
    manifest = {
        "name": "steel-effnetb0-synth",
        "version": a.version,
        "file": os.path.basename(a.onnx),
        "sha256": sha256(a.onnx),
        "variant": "whole-strip" if whole_strip else "per-patch",
        "input": {"name": "input", "layout": "NCHW", "channels": 3, "patch_size": 256, "stride": 128,
                  **({"cell": 32} if whole_strip else {})},
        "preprocessing": {"scale": 1.0 / 255.0, "mean": MEAN, "std": STD},
        "output": {"name": "probability", "kind": "probability"},
        "classes": ["defect"],
        "default_thresholds": {"pass": 0.40, "reject": 0.65},
        "provenance": {
            "description": ("EfficientNet-B0 (from scratch" + (", ReLU6 in place of SiLU" if ck.get("act") == "relu6" else "")
                            + ") + 256-128-1 head, trained on synthetic Severstal-layout strips"
                            + ("; whole-strip variant: the backbone runs once over the strip, its /32 feature map is "
                               "averaged over each 8x8-cell window and the head applied per window" if whole_strip else "")),
            "trained_on": a.trained_on,
            "training": training,
            "date": datetime.datetime.utcnow().strftime("%Y-%m-%d"),
            "heldout": a.heldout_desc,
            "metrics": metrics,
        },
    }
    if metrics_wide:
        manifest["provenance"]["heldout_wide"] = a.heldout_wide_desc
        manifest["provenance"]["metrics_wide"] = metrics_wide
    mpath = os.path.splitext(a.onnx)[0] + ".manifest.json"
    write_json(mpath, manifest)
    print(dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
