#!/usr/bin/env python3
"""Refit a whole-strip model's logit calibration on validation strips, through the Go engine.

  /usr/bin/python3 training/recalibrate.py --model .cache/models/M-int8.onnx \
      --val .cache/synth/val .cache/synth/val-wide --steelinspect bin/steelinspect

finetune.py fits the calibration sigmoid(a * logit + b) on validation strips in PyTorch, in fp32,
and quantize.py keeps it. INT8 moves the logits: the synthetic-only MobileNetV2 of session 15
auto-rejected 11 of the 30 clean held-out strips in INT8 and 1 in fp32, while in INT8 its strips
still separated (0 missed and 0 false rejects at some pair of thresholds). This scores the
validation strips with the model as the station runs it (`steelinspect scan`), recovers the raw
logits from the probabilities and the graph's constants (net.cal_a, net.cal_b), refits a and b
with finetune.py's objective and writes them into the graph in place; the manifest gets the new
sha256 and says so, and its held-out figures are measured again (--heldout, --heldout-wide) or
dropped. Never pass the held-out strips as --val: they measure the result.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from common import write_json
from dataset import patch_labels, tile_positions
from finetune import add_heldout_metrics, compact, fit_calibration, load_severstal, summarise
from quantize import sha256

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def engine_probabilities(exe, model, folder):
    """image file name -> {(x, y): probability} of every patch, as the station scores it."""
    out = subprocess.run([exe, "scan", "--model", os.path.abspath(model), "--format", "jsonl",
                          os.path.abspath(os.path.join(folder, "train_images"))],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        r = json.loads(line)
        if "patches" not in r:
            raise SystemExit(f"{r.get('path')}: {r.get('error', 'no patches')}")
        res[os.path.basename(r["path"])] = {(p["x"], p["y"]): p["probability"] for p in r["patches"]}
    return res


def raw_logits(probs, a0, b0):
    """The model's logits before its calibration sigmoid(a0 * logit + b0), from its probabilities
    (float32 in the engine's records: 1.0 exactly is read as 1 - 1e-7)."""
    p = np.clip(np.asarray(probs, np.float64), 1e-7, 1 - 1e-7)
    return (np.log(p / (1 - p)) - b0) / a0


def raw_set(exe, model, folders, a0, b0):
    """finetune.py's (raw logits, patch labels, defective) per validation strip."""
    res = []
    for d in folders:
        probs = engine_probabilities(exe, model, d)
        for s in load_severstal(d, source="synth"):
            h, w = s.img.shape
            pos = tile_positions(w, h)
            lg = raw_logits([probs[s.id][(x, y)] for y, x in pos], a0, b0)
            res.append((lg, patch_labels(s.mask, pos), s.defective))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="whole-strip .onnx with net.cal_a / net.cal_b, manifest beside it")
    ap.add_argument("--val", nargs="+", required=True, help="validation folders (Severstal layout), never held-out ones")
    ap.add_argument("--steelinspect", default=os.path.join(ROOT, "bin", "steelinspect"))
    ap.add_argument("--heldout", help="held-out folder measured again after the refit: the manifest's metrics")
    ap.add_argument("--heldout-wide", help="second held-out folder measured again: the manifest's metrics_wide")
    a = ap.parse_args(argv)
    model = onnx.load(a.model)
    inits = {i.name: i for i in model.graph.initializer}
    if "net.cal_a" not in inits or "net.cal_b" not in inits:
        raise SystemExit(f"{a.model}: no net.cal_a / net.cal_b constants (not a finetune.py export)")
    a0, b0 = (float(numpy_helper.to_array(inits[k])) for k in ("net.cal_a", "net.cal_b"))
    res = raw_set(a.steelinspect, a.model, a.val, a0, b0)
    ca, cb, _ = fit_calibration({"synth": res})
    before, after = summarise(res, a0, b0), summarise(res, ca, cb)
    for name, s in (("before", before), ("after", after)):
        print(f"{name}: a={a0 if name == 'before' else ca:g} b={b0 if name == 'before' else cb:.2f} missed "
              f"{s['missed']}, false rejects {s['false_rejects']}, review {100 * s['review_rate']:.1f} % "
              f"of {s['strips']} validation strips", file=sys.stderr)
    for k, v in (("net.cal_a", ca), ("net.cal_b", cb)):
        inits[k].CopyFrom(numpy_helper.from_array(np.array(v, np.float32), k))
    onnx.save(model, a.model)
    mpath = os.path.splitext(a.model)[0] + ".manifest.json"
    with open(mpath) as f:
        man = json.load(f)
    man["sha256"] = sha256(a.model)
    prov = man.setdefault("provenance", {})
    prov["training"] = (prov.get("training", "").rstrip(". ") + f"; calibration refitted as the engine runs this "
                        f"file (training/recalibrate.py): a={ca:g} b={cb:.2f} on {len(res)} validation strips")
    prov["metrics_validation"] = compact({"synth": after})  # as the engine decides them now
    # held-out figures measured before the refit no longer hold: measured again, or dropped
    for field in ("metrics", "metrics_wide"):
        prov.pop(field, None)
    write_json(mpath, man)
    for h, field in ((a.heldout, "metrics"), (a.heldout_wide, "metrics_wide")):
        if h:
            add_heldout_metrics(a.model, h, a.steelinspect, field)
    print(f"wrote {a.model} and {mpath}", file=sys.stderr)


if __name__ == "__main__":
    main()
