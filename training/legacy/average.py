#!/usr/bin/env python3
"""Average the weights of several whole-strip checkpoints of one run (stochastic weight
averaging over the low-learning-rate end of a run) and score the result on validation
the way train_strip.py scores its checkpoints, calibration included.

  PYTHONPATH=training python3 -m legacy.average --ckpt .cache/run-s4/step1800.pt .cache/run-s4/last.pt \
      --val .cache/synth/val-mix --out .cache/run-s4/avg.pt

BatchNorm running statistics are averaged like the weights; that is close enough for
checkpoints a few hundred steps apart at a small learning rate, and the validation
score written into the checkpoint says whether it was.
"""
import argparse
import os
import sys

import torch

from dataset import StripSet
from legacy import train_strip


def average_state(dicts):
    """Element-wise mean of state dicts with the same keys (integer buffers such as
    num_batches_tracked keep the first dict's value)."""
    out = {}
    for k, v in dicts[0].items():
        if torch.is_floating_point(v):
            out[k] = sum(d[k].double() for d in dicts).div(len(dicts)).to(v.dtype)
        else:
            out[k] = v.clone()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, nargs="+", help="whole-strip checkpoints of one run")
    ap.add_argument("--val", default=None, help="validation folder to score the average on")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    cks = [torch.load(p, map_location="cpu") for p in a.ckpt]
    if any(ck.get("variant") != "whole-strip" for ck in cks) or len({ck.get("act") for ck in cks}) != 1:
        raise SystemExit("average.py: want whole-strip checkpoints with one activation")
    ck = {k: v for k, v in cks[-1].items() if k not in ("val", "val_score", "val_calibrated", "calib")}
    ck["model"] = average_state([c["model"] for c in cks])
    ck["averaged"] = [f"{os.path.basename(p)} (step {c.get('step')})" for p, c in zip(a.ckpt, cks)]
    if a.val:
        net, _ = train_strip.load_strip_model_from(dict(ck))
        m, sc, cal = train_strip.validation_score(net, StripSet(a.val))
        ck.update({"val": m, "val_score": sc, "val_calibrated": cal})
        print(f"average of {len(cks)}: score={sc:.3f} {train_strip.describe_calibrated(cal)}", file=sys.stderr)
    torch.save(ck, a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
