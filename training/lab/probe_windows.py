#!/usr/bin/env python3
"""How well a line could be learned on a whole-strip model's window features (issue 28's lead).

A balanced, L2-regularised logistic regression on the window features the Go engine computes for
every patch (a whole-strip model's features output: 1,280 values for the bundled 6.0.0, through
`go run ./tools/vectors --of windows`), patch labels by the 50-pixel rule, a strip's score its
highest window. Thresholds are placed on 5-fold out-of-fold strip scores (strips of one source
picture in one fold, as domain_check.group_of groups CR7 crops) within a budget of missed and
wrongly rejected strips, then applied to the strips of --score by a head learned on all of --learn:

  PYTHONPATH=training /usr/bin/python3 -m lab.probe_windows --learn CR7/train --score CR7/test --budget 0.01
  PYTHONPATH=training /usr/bin/python3 -m lab.probe_windows --leave-one-out ../shared/real-severstal

--leave-one-out reports the patch ROC AUC with each strip scored by a head learned without it.
Folders are in Severstal layout (train_images/, train.csv). Session 16's figures: NOTEBOOK.md,
"A lead for issue 28".
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from common import roc_auc
from dataset import read_mask_csv, rle_decode, patch_labels, tile_positions
from domain_check import ROOT, Logistic, group_of, image_files

MODEL = os.path.join(ROOT, "models", "steel-mnv2-synth-int8.manifest.json")


def windows(model, folder):
    """(features per patch, patch labels, strip index per patch, defective per strip, strip paths)."""
    paths = image_files(os.path.join(folder, "train_images"))
    out = subprocess.run(["go", "run", "./tools/vectors", "--of", "windows", "--model", os.path.abspath(model)],
                         input="\n".join(os.path.abspath(p) for p in paths) + "\n", cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    raw = np.array([[float(v) for v in line.split()] for line in out.splitlines()], np.float32)
    strip, x = raw[:, 0].astype(int), raw[:, 1:]
    masks = read_mask_csv(os.path.join(folder, "train.csv"))
    labels, defective = [], []
    for p in paths:
        rles = masks.get(os.path.basename(p)) or []
        w, h = Image.open(p).size
        m = np.zeros((h, w), bool)
        for _cls, rle in rles:
            m |= rle_decode(rle, (h, w)).astype(bool)
        labels.append(patch_labels(m, tile_positions(w, h)))
        defective.append(bool(rles))
    y = np.concatenate(labels).astype(bool)
    if len(y) != len(x):
        raise SystemExit(f"{folder}: {len(x)} windows from the engine, {len(y)} patches tiled here")
    return x, y, strip, np.array(defective), paths


def fit(x, y, l2):
    """The domain check's balanced logistic regression (domain_check.Logistic) -> a scoring function."""
    return Logistic(x.astype(np.float64), y.astype(np.float64), l2=l2).score


def strip_scores(s, strip, n):
    out = np.full(n, -np.inf)
    np.maximum.at(out, strip, s)
    return out


def thresholds(s, d, budget):
    """Pass below p, reject above r: at most budget of the defective strips under p and of the clean over r."""
    low, high = np.sort(s[d]), np.sort(s[~d])
    p = low[int(np.floor(budget * len(low)))]
    r = high[len(high) - 1 - int(np.floor(budget * len(high)))]
    return p, max(p, r)


def judged(s, d, p, r):
    return int((d & (s < p)).sum()), int((~d & (s > r)).sum()), float(((s >= p) & (s <= r)).mean())


def learn_and_score(a):
    x, y, strip, d, paths = windows(a.model, a.learn)
    xs, ys, ss, ds, _ = windows(a.model, a.score)
    groups = sorted({group_of(p) for p in paths})
    rng = np.random.default_rng(0)
    rng.shuffle(groups)
    fold_of_group = {g: i % 5 for i, g in enumerate(groups)}
    fold = np.array([fold_of_group[group_of(p)] for p in paths])[strip]
    for l2 in a.l2:
        oof = np.zeros(len(y))
        for k in range(5):
            m = fold == k
            oof[m] = fit(x[~m], y[~m], l2)(x[m])
        so = strip_scores(oof, strip, len(d))
        p, r = thresholds(so, d, a.budget)
        st = strip_scores(fit(x, y, l2)(xs), ss, len(ds))
        missed, rejected, review = judged(st, ds, p, r)
        best = judged(st, ds, *thresholds(st, ds, 0.0))[2]
        print(f"L2 {l2:g}: out-of-fold strip AUC {roc_auc(so, d):.3f}; scored strips AUC {roc_auc(st, ds):.3f}, "
              f"missed {missed} of {ds.sum()}, clean rejected {rejected} of {(~ds).sum()}, review {100 * review:.1f} % "
              f"(0 / 0 with thresholds placed on them: {100 * best:.1f} %)", flush=True)


def leave_one_out(a):
    x, y, strip, _d, paths = windows(a.model, a.leave_one_out)
    for l2 in a.l2:
        oof = np.zeros(len(y))
        for i in range(len(paths)):
            m = strip == i
            oof[m] = fit(x[~m], y[~m], l2)(x[m])
        print(f"L2 {l2:g}: leave-one-strip-out patch ROC AUC {roc_auc(oof, y):.3f} "
              f"({len(paths)} strips, {len(y)} patches, {int(y.sum())} defective)", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=MODEL, help="whole-strip model with a features output (default: the bundled one)")
    ap.add_argument("--learn", help="labelled folder the head learns on")
    ap.add_argument("--score", help="labelled folder it is measured on")
    ap.add_argument("--leave-one-out", help="labelled folder measured strip by strip instead")
    ap.add_argument("--budget", type=float, default=0.0, help="share of missed and of wrongly rejected strips allowed")
    ap.add_argument("--l2", type=float, nargs="+", default=[1e-3, 1e-2])
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    if a.leave_one_out:
        leave_one_out(a)
    elif a.learn and a.score:
        learn_and_score(a)
    else:
        ap.error("--learn with --score, or --leave-one-out")


if __name__ == "__main__":
    sys.exit(main())
