#!/usr/bin/env python3
"""Strip- and patch-level metrics of a checkpoint on a Severstal-layout folder.

  PYTHONPATH=training python3 -m legacy.evaluate --ckpt .cache/run-cpu/best.pt --data testdata/heldout [--pass 0.40 --reject 0.65]

Strip score = max patch probability over the 256x256/stride-128 tiles;
PASS if score < pass, REJECT if score > reject, else REVIEW.
A patch counts as predicted defective when prob >= pass. A strip is defective when its
mask is non-empty.
"""
import argparse
import json
import sys

import numpy as np
import torch

from dataset import StripSet
from common import dumps
from legacy.train import Calibrated, build_model, metrics, strip_predictions


def load_model(ckpt):
    """Checkpoint -> (model returning logits, checkpoint dict). A checkpoint written by
    export.py --calibrate-on carries "calib": {"a":..,"b":..} and is wrapped accordingly."""
    m = build_model()
    sd = torch.load(ckpt, map_location="cpu")
    m.load_state_dict(sd["model"])
    if "calib" in sd:
        m = Calibrated(m, sd["calib"]["a"], sd["calib"]["b"])
    m.eval()
    return m, sd


def evaluate(ckpt_or_model, data, t_pass=0.40, t_reject=0.65, per_strip=False):
    model = load_model(ckpt_or_model)[0] if isinstance(ckpt_or_model, str) else ckpt_or_model
    ds = StripSet(data)
    # plain NCHW fp32, like the exported graph
    res = strip_predictions(model.float(), ds, channels_last=False)
    m = metrics(res, t_pass, t_reject)
    if per_strip:
        m["per_strip"] = [
            {"image": iid, "defective": d, "max": round(float(p.max()), 6),
             "probs": [round(float(v), 6) for v in p]}
            for iid, (p, _l, d) in zip(ds.ids, res)]
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--pass", dest="t_pass", type=float, default=0.40)
    ap.add_argument("--reject", type=float, default=0.65)
    ap.add_argument("--per-strip", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = evaluate(a.ckpt, a.data, a.t_pass, a.reject, a.per_strip)
    print(dumps(m, indent=1))
    bar = (m["strip_missed"] == 0 and m["strip_false_reject"] <= m["clean_strips"] / 30
           and m["review_rate"] <= 0.20 and m["patch_recall_at_pass"] >= 0.98)
    print("meets issue bar:", bar, file=sys.stderr)


if __name__ == "__main__":
    main()
