#!/usr/bin/env python3
"""Fine-tune the whole-strip variant (strip_model.StripNet) from a per-patch checkpoint.

  PYTHONPATH=training python3 -m legacy.train_strip --init .cache/run-cpu/best.pt --data .cache/synth/train \
      --val .cache/synth/val --out .cache/run-strip --budget-min 100

Each step takes `batch` whole strips (flipped with their masks, then the per-patch
augmentation of train.py), runs the backbone once per strip and computes the loss on
every 256x256 window on the 32-px grid (43 per 1600x256 strip). Positives are weighted
by --pos-weight (recall matters more than precision at the pass threshold). Validation
scores the engine's 256/128 tiling read off the score map, with the same metrics and
checkpoint score as train.py. The learning rate follows max(step/steps, elapsed/budget)
so a run ends on time; best.pt and last.pt hold {"model": StripNet state_dict,
"variant": "whole-strip", ...}.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from dataset import StripSet
from common import dumps, rounded, write_json
from legacy.strip_model import StripNet, grid_indices, window_labels
from legacy.train import (ACTIVATIONS, augment, build_model, fit_logit_calibration, make_logger, metrics,
                          normalize, strip_tensor, val_score)


def load_strip_model(ckpt, act=None):
    """Checkpoint -> (StripNet in eval mode, checkpoint dict). Accepts a whole-strip
    checkpoint or a per-patch one (whose head is converted to 1x1 convolutions).
    act overrides the checkpoint's activation (e.g. start a ReLU6 run from SiLU weights)."""
    return load_strip_model_from(torch.load(ckpt, map_location="cpu"), act)


def load_strip_model_from(sd, act=None):
    """load_strip_model for a checkpoint dict already in memory."""
    act = act or sd.get("act", "silu")
    sd["act"] = act
    net = StripNet(build_model(act))
    if sd.get("variant") == "whole-strip":
        net.load_state_dict(sd["model"])
    else:
        pm = build_model(act)
        pm.load_state_dict(sd["model"])
        net = StripNet(pm)
    return net.eval(), sd


@torch.no_grad()
def strip_scores(net, img, raw=False):
    """uint8 [H,W] (multiples of 32) -> probabilities (or logits) of the engine's tiles."""
    x = strip_tensor(img)
    out = net(x)[0].double().numpy()
    v = np.array([out[r, c] for r, c in grid_indices(img.shape[1], img.shape[0])])
    return v if raw else 1.0 / (1.0 + np.exp(-v))


def strip_predictions(net, ds, raw=False):
    """-> list of (scores [n], labels [n], defective bool) per strip, like train.strip_predictions."""
    net.eval()
    res = []
    for i in range(len(ds)):
        _p, lab, _pos = ds.tiles(i)
        res.append((strip_scores(net, ds.images[i], raw), lab, bool(ds.masks[i].any())))
    return res


def validation_score(net, va):
    """Score on a validation StripSet -> (metrics, score, calibrated {a, b, metrics, score}):
    raw, and after the logit calibration export.py will fit on the same strips."""
    raw = strip_predictions(net, va, raw=True)
    m = metrics([(1.0 / (1.0 + np.exp(-l)), lab, d) for l, lab, d in raw])
    ca, cb, cm = fit_logit_calibration(raw)
    return m, val_score(m), {"a": ca, "b": cb, "metrics": cm, "score": val_score(cm)}


def describe_calibrated(cal):
    """One log fragment for validation_score's calibrated result."""
    brief = ("strip_missed", "strip_false_reject", "review_rate", "patch_recall_at_pass", "roc_auc")
    return (f"calibrated a={cal['a']:g} b={cal['b']:.2f} score={cal['score']:.3f} "
            + dumps({k: rounded(cal["metrics"][k], 4) for k in brief}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True, help="per-patch or whole-strip checkpoint to start from")
    ap.add_argument("--data", required=True, nargs="+", help="one or more Severstal-layout folders")
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-min", type=float, default=100.0)
    ap.add_argument("--steps", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--pos-weight", type=float, default=2.0)
    ap.add_argument("--limit", type=int, default=None, help="strips per data folder (smoke tests)")
    ap.add_argument("--val-limit", type=int, default=None)
    ap.add_argument("--eval-every-min", type=float, default=10.0)
    ap.add_argument("--keep-evals", action="store_true",
                    help="also keep every evaluated checkpoint as step<N>.pt (to choose after calibration)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--act", choices=ACTIVATIONS, default=None,
                    help="backbone activation (default: the --init checkpoint's); relu6 runs faster in ONNX Runtime")
    ap.add_argument("--teacher", default=None,
                    help="whole-strip checkpoint whose window probabilities are distilled (e.g. when changing --act)")
    ap.add_argument("--distill", type=float, default=1.0, help="weight of the distillation loss")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    say = make_logger(a.out)

    t0 = time.time()
    images, masks = [], []
    for d in a.data:
        ds = StripSet(d, a.limit)
        images += ds.images
        masks += ds.masks
    va = StripSet(a.val, a.val_limit)
    shapes = {im.shape for im in images}
    if any(h % 32 or w % 32 for h, w in shapes):
        raise SystemExit(f"strip sizes must be multiples of 32, got {sorted(shapes)}")
    say(f"train strips={len(images)} sizes={sorted(shapes)} val strips={len(va)} load {time.time() - t0:.1f}s "
        f"args={dumps(vars(a))}")

    net, init_ck = load_strip_model(a.init, a.act)
    act = init_ck["act"]
    net = net.to(memory_format=torch.channels_last)
    teacher = None
    if a.teacher:
        teacher = load_strip_model(a.teacher)[0].to(memory_format=torch.channels_last).eval()
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=0.02)
    gen = torch.Generator().manual_seed(a.seed + 1)
    rng = np.random.default_rng(a.seed)
    budget = a.budget_min * 60
    best = best_cal = None
    step = seen = 0
    t_start = time.time()
    t_eval = t_start
    ema = None

    def save(path, extra):
        torch.save({"model": net.state_dict(), "variant": "whole-strip", "act": act, "step": step, "strips_seen": seen,
                    "init": a.init, "args": vars(a), "elapsed_s": time.time() - t_start, **extra}, path + ".tmp")
        os.replace(path + ".tmp", path)

    def evaluate_and_maybe_save():
        nonlocal best, best_cal
        te = time.time()
        # calibrated: the score the exported model will have (export.py fits it on validation)
        m, sc, cal = validation_score(net, va)
        csc = cal["score"]
        say(f"eval step={step} strips={seen} score={sc:.3f} "
            + dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()})
            + f" {describe_calibrated(cal)} ({time.time() - te:.0f}s)")
        extra = {"val": m, "val_score": sc, "val_calibrated": cal}
        if a.keep_evals:
            save(os.path.join(a.out, f"step{step}.pt"), extra)
        if best is None or sc < best:
            best = sc
            save(os.path.join(a.out, "best.pt"), extra)
            say("  new best -> best.pt")
        if best_cal is None or csc < best_cal:
            best_cal = csc
            save(os.path.join(a.out, "best-calibrated.pt"), extra)
            say("  new best after calibration -> best-calibrated.pt")
        net.train()

    evaluate_and_maybe_save()
    order = rng.permutation(len(images))
    pos = 0
    net.train()
    while True:
        frac = max(step / a.steps, (time.time() - t_start) / budget)
        if frac >= 1.0:
            break
        lr = a.lr * (step + 1) / a.warmup if step < a.warmup else \
            a.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        if pos + a.batch > len(order):
            order, pos = rng.permutation(len(images)), 0
        idx = order[pos:pos + a.batch]
        pos += a.batch
        xs, ys = [], []
        for i in idx:
            img, m = images[i], masks[i]
            if rng.random() < 0.5:
                img, m = img[:, ::-1], m[:, ::-1]
            if rng.random() < 0.5:
                img, m = img[::-1], m[::-1]
            xs.append(np.ascontiguousarray(img))
            ys.append(window_labels(np.ascontiguousarray(m)))
        x = augment(torch.from_numpy(np.stack(xs)).float().unsqueeze(1), gen, flips=False)
        x = normalize(x).contiguous(memory_format=torch.channels_last)
        y = torch.from_numpy(np.stack(ys)).float()
        logit = net(x)
        w = 1.0 + (a.pos_weight - 1.0) * y
        loss = F.binary_cross_entropy_with_logits(logit, y, weight=w)
        if teacher is not None:
            with torch.no_grad():
                soft = torch.sigmoid(teacher(x))
            loss = loss + a.distill * F.binary_cross_entropy_with_logits(logit, soft)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += len(idx)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 20 == 0 or step <= 3:
            el = time.time() - t_start
            say(f"step {step} strips {seen} loss {loss.item():.4f} ema {ema:.4f} lr {lr:.2e} "
                f"{seen / el:.2f} strips/s elapsed {el / 60:.1f} min")
        if time.time() - t_eval > a.eval_every_min * 60:
            save(os.path.join(a.out, "last.pt"), {})
            evaluate_and_maybe_save()
            t_eval = time.time()
    el = time.time() - t_start
    say(f"done: steps={step} strips={seen} wall={el / 60:.1f} min ({seen / max(el, 1e-9):.2f} strips/s, "
        f"{seen / max(1, len(images)):.2f} epochs)")
    save(os.path.join(a.out, "last.pt"), {})
    evaluate_and_maybe_save()
    write_json(os.path.join(a.out, "summary.json"),
               {"steps": step, "strips_seen": seen, "wall_s": el, "train_strips": len(images),
                "best_val_score": best, "best_calibrated_val_score": best_cal, "init": a.init,
                "data": [os.path.abspath(d) for d in a.data]}, indent=1)


if __name__ == "__main__":
    main()
