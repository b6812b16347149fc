#!/usr/bin/env python3
"""Diagnose a whole-strip MobileNetV2 checkpoint without retraining its backbone (issue 14).

Two questions, answered on features computed once per strip (about 0.2 s a strip on 2 CPU cores):

  floor   How many 1/32 cells of the strips have all 1280 top features zero (the last layer's ReLU6
          passes no gradient there), and how many windows sit at the head's floor: the lowest logit the 1280-128-1 head gives,
          reached whenever only its "clean steel" hidden units are alive. Windows at the floor
          are tied, whatever the strip holds there: a calibration can never separate the
          defective strips whose highest window is at the floor from clean steel.
  local   Whether a local head on mid-level features of the same backbone run (block 6,
          2x2-averaged, and block 13: 128 channels at 1/16; a 1x1-3x3-1x1 convolution per
          location, max-pooled over each 256x256 window) separates defective from clean strips
          better than the shipped head. Trained on cached features for a few epochs; the
          calibration is fitted on validation exactly as finetune.py fits it (finetune.objective);
          the held-out sets are only reported. `mode` mid: the local head alone; sum / max: with
          the shipped head's logits.

  PYTHONPATH=training /usr/bin/python3 -m lab.probe_heads --ckpt .cache/finetune-cont/best.pt --work .cache/probe floor
  PYTHONPATH=training /usr/bin/python3 -m lab.probe_heads --ckpt imagenet --work .cache/probe-imagenet floor
  PYTHONPATH=training /usr/bin/python3 -m lab.probe_heads --ckpt .cache/finetune-cont/best.pt --work .cache/probe local --seeds 1,2,3

Sets (cached under WORK on first use): the real Severstal strips split as finetune.py splits them
(--val-frac 0.33), the synthetic validation and held-out folders, the NEU-DET images never trained
on, synthetic training strips and sampled crops of real strips and NEU-DET defects (finetune.Sampler).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from finetune import (Sampler, as_engine_sees, fit_calibration, linear_top_of, load_neu, load_severstal,
                      read_image_labels, split_real, summarise)
from mnv2_model import PRETRAINED, MobileStripNet
from common import augment, grid_indices, known, normalize, roc_auc

# the repository root (this file is training/lab/probe_heads.py)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared")
SEVERSTAL = os.path.join(SHARED, "real-severstal")
LOCAL = 16  # the local head's grid: 16 px
WIN = 256 // LOCAL

SYNTH_SETS = {"val_b": ".cache/synth/val-b", "val_w": ".cache/synth/val-w",
              "held_b": "testdata/heldout", "held_w": "testdata/heldout-wide"}


# ---------------------------------------------------------------- features

class Extractor:
    def __init__(self, ckpt):
        if ckpt == "imagenet":  # the backbone as it starts (the head is random: only `dead` means anything)
            self.net = MobileStripNet(PRETRAINED)
        else:
            ck = torch.load(ckpt, map_location="cpu")
            self.net = MobileStripNet(None, linear_top_of(ck))
            self.net.load_state_dict(ck["model"])
        self.net.eval()

    @torch.no_grad()
    def __call__(self, img):
        """uint8 [H,W] -> (mid features [128,H/16,W/16] fp16, shipped head's logits [H/32-7,W/32-7],
        which of the head's hidden units are alive, per window [128, ...] bool, and the share of the strip's
        1/32 cells where all 1280 top features are at or below zero: zero after a ReLU6)."""
        h = normalize(torch.from_numpy(img.astype(np.float32))[None, None])
        for i, blk in enumerate(self.net.features):
            h = blk(h)
            if i == 6:
                b6 = F.avg_pool2d(h, 2)
            if i == 13:
                b13 = h
        dead = float((h <= 0).all(1).float().mean())
        pooled = F.avg_pool2d(h, 8, stride=1)
        hidden = self.net.head[1](self.net.head[0](pooled))
        logit = self.net.head[3](hidden)[:, 0]
        return torch.cat([b6, b13], 1)[0].half().numpy(), logit[0].numpy(), (hidden > 0)[0].numpy(), dead


def cells(mask):
    h, w = mask.shape
    return mask.reshape(h // LOCAL, LOCAL, w // LOCAL, LOCAL).sum(axis=(1, 3)).astype(np.int16)


def cache(work, ext, name, items_fn):
    path = os.path.join(work, name + ".npz")
    if not os.path.exists(path):
        t = time.time()
        fs, cs, ls, hs, ds, zs = [], [], [], [], [], []
        for img, mask, defective in items_fn():
            f, lg, alive, dead = ext(img)
            zs.append(dead)
            fs.append(f)
            ls.append(lg)
            hs.append(alive)
            ds.append(defective)
            cs.append(cells(mask) if mask is not None else np.full((img.shape[0] // LOCAL, img.shape[1] // LOCAL), -1,
                                                                   np.int16))
        np.savez(path, f=np.stack(fs), c=np.stack(cs), l=np.stack(ls), h=np.stack(hs), d=np.array(ds), z=np.array(zs))
        print(f"cached {name}: {len(fs)} in {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    z = np.load(path)
    return {k: z[k] for k in z.files}


def strips(lst):
    return lambda: ((s.img, s.mask, s.defective) for s in lst)


def real_split():
    labels = read_image_labels(os.path.join(SEVERSTAL, "image_labels_all_train.csv"))
    real = load_severstal(SEVERSTAL, None, labels) + load_severstal(
        SEVERSTAL, None, labels, images_dir=os.path.join(SEVERSTAL, "train_images_nomask"))
    return split_real(real, 0.33)


def crops(n, seed):
    def gen():
        tr, _ = real_split()
        neu_tr, _ = load_neu(os.path.join(SHARED, "real-neu-det"), 0.15)
        sm = Sampler(tr, [], neu_tr, 384, seed, {"real": 0.4, "synth": 0, "neu": 0.2, "paste": 0.4})
        sm.torch_gen = torch.Generator().manual_seed(seed + 1)
        for _ in range(n):
            img, m = sm.crop(sm.kinds[sm.rng.choice(len(sm.kinds), p=sm.p)])
            x = augment(torch.from_numpy(np.ascontiguousarray(img)).float()[None, None], sm.torch_gen, flips=False)
            yield x[0, 0].clamp(0, 255).numpy().astype(np.uint8), np.ascontiguousarray(m), bool(m.any())
    return gen


def load_sets(work, ext, args, training):
    out = {}
    tr, va = real_split()
    out["real_va"] = cache(work, ext, "real_va", strips(va))
    for name, folder in SYNTH_SETS.items():
        out[name] = cache(work, ext, name, strips(load_severstal(os.path.join(ROOT, folder), source="synth")))
    _, neu_te = load_neu(os.path.join(SHARED, "real-neu-det"), 0.15)
    out["neu_te"] = cache(work, ext, "neu_te", lambda: ((as_engine_sees(a), as_engine_sees(m), True)
                                                        for a, m, _ in neu_te))
    if training:
        out["real_tr"] = cache(work, ext, "real_tr", strips(tr))
        for folder in args.synth:
            name = "tr_" + os.path.basename(folder.rstrip("/"))
            out[name] = cache(work, ext, name, strips(load_severstal(os.path.join(ROOT, folder), limit=args.synth_limit,
                                                                     source="synth")))
        if args.crops:
            out["crops"] = cache(work, ext, f"crops{args.crops}", crops(args.crops, 11))
    return out


# ---------------------------------------------------------------- floor

def floor_report(sets, tie=0.005):
    # the floor is the logit most windows share (rounded to 0.01)
    vals, counts = np.unique(np.round(np.concatenate([z["l"].reshape(-1) for z in sets.values()]), 2),
                             return_counts=True)
    floor = float(vals[np.argmax(counts)])
    print(f"floor: logit {floor:.2f}, the one most windows share (within {tie}); the lowest is "
          f"{min(float(z['l'].min()) for z in sets.values()):.3f}")
    for name, z in sets.items():
        at = np.abs(z["l"] - floor) <= tie
        alive = np.moveaxis(z["h"], 1, -1)[at].sum(-1)
        top = z["l"].reshape(len(at), -1).max(1) <= floor + tie
        d = z["d"].astype(bool)
        print(f"{name}: {100 * z['z'].mean():.0f} % of 1/32 cells with all 1280 top features at or below zero; "
              f"{100 * at.mean():.0f} % of windows at the floor (hidden units alive there: "
              f"{', '.join(str(v) for v in np.unique(alive)[:6])}); strips whose highest window is at the floor: "
              f"defective {int((top & d).sum())} of {int(d.sum())}, clean {int((top & ~d).sum())} of {int((~d).sum())}")


# ---------------------------------------------------------------- local head

def loc_labels(c, pos_px):
    cc = c.clamp(min=0)
    near = F.max_pool2d(cc[:, None], 3, stride=1, padding=1)[:, 0]
    lab = torch.full_like(cc, -1.0)
    lab[near == 0] = 0
    lab[cc >= pos_px] = 1
    lab[c < 0] = -1
    return lab


def win_labels(c):
    s = F.avg_pool2d(c[:, None].clamp(min=0), WIN, stride=2)[:, 0] * WIN * WIN
    lab = (s >= 50).float()
    lab[(c < 0).flatten(1).any(1)] = -1
    return lab


class LocalHead(nn.Module):
    def __init__(self, cin=128, hid=96):
        super().__init__()
        self.register_buffer("mu", torch.zeros(cin))
        self.register_buffer("sd", torch.ones(cin))
        self.net = nn.Sequential(nn.Conv2d(cin, hid, 1), nn.ReLU(), nn.Conv2d(hid, hid // 2, 3, padding=1), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Conv2d(hid // 2, 1, 1))

    def loc(self, f):
        return self.net((f - self.mu[None, :, None, None]) / self.sd[None, :, None, None])[:, 0]

    def forward(self, f):
        return F.max_pool2d(self.loc(f)[:, None], WIN, stride=2)[:, 0]


def train_local(groups, epochs, seed, pos_px=16, pos_w=3.0, mil=0.5, lr=2e-3):
    torch.manual_seed(seed)
    m = LocalHead()
    sample = torch.cat([torch.from_numpy(z["f"][:50]).float().permute(0, 2, 3, 1).reshape(-1, 128) for z in groups])
    m.mu.copy_(sample.mean(0))
    m.sd.copy_(sample.std(0) + 1e-3)
    data = []
    for z in groups:
        c = torch.from_numpy(z["c"].astype(np.float32))
        data.append((torch.from_numpy(z["f"]), loc_labels(c, pos_px), win_labels(c)))
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=1e-3)
    batches = [(g, i) for g, (f, _, _) in enumerate(data) for i in range(0, len(f), 16)]
    total, step = epochs * len(batches), 0
    for ep in range(epochs):
        m.train()
        np.random.default_rng(seed + ep).shuffle(batches)
        for g, i in batches:
            f, ll, wl = data[g]
            fb, lb, wb = f[i:i + 16].float(), ll[i:i + 16], wl[i:i + 16]
            for pg in opt.param_groups:
                pg["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / total))
            lo = m.loc(fb)
            known = lb >= 0
            w = torch.where(lb > 0, pos_w, 1.0)
            loss = (F.binary_cross_entropy_with_logits(lo, lb.clamp(min=0), reduction="none") * w * known).sum() \
                / known.sum().clamp(min=1)
            wo = F.max_pool2d(lo[:, None], WIN, stride=2)[:, 0]
            wk = wb >= 0
            loss = loss + mil * (F.binary_cross_entropy_with_logits(wo, wb.clamp(min=0), reduction="none") * wk).sum() \
                / wk.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    return m.eval()


@torch.no_grad()
def window_logits(heads, z):
    """-> per strip (local logits, shipped logits, patch labels or None, defective) on the engine's tiles."""
    f, c = torch.from_numpy(z["f"]), torch.from_numpy(z["c"].astype(np.float32))
    wl = win_labels(c)
    res = []
    for i in range(0, len(f), 32):
        out = sum(h(f[i:i + 32].float()) for h in heads) / len(heads)
        for j in range(out.shape[0]):
            k = i + j
            hh, ww = c[k].shape
            idx = grid_indices(ww * LOCAL, hh * LOCAL)
            lab = None if wl[k, 0, 0] < 0 else np.array([wl[k, r, cc].item() for r, cc in idx]).astype(int)
            res.append((np.array([out[j, r, cc].item() for r, cc in idx]),
                        np.array([z["l"][k, r, cc] for r, cc in idx]), lab, bool(z["d"][k])))
    return res


def combine(res, mode):
    pick = {"mid": lambda a, b: a, "shipped": lambda a, b: b, "sum": lambda a, b: a + b, "max": np.maximum}[mode]
    return [(pick(lm, l0), lab, d) for lm, l0, lab, d in res]


def local_report(sets, heads, modes):
    raw = {n: window_logits(heads, z) for n, z in sets.items() if not n.startswith(("tr_", "crops", "real_tr"))}
    for mode in modes:
        rv = combine(raw["real_va"], mode)
        val = {"real-masked": [r for r in rv if r[1] is not None], "real-weak": [r for r in rv if r[1] is None],
               "synth": combine(raw["val_b"], mode) + combine(raw["val_w"], mode)}
        a, b, score = fit_calibration(val)
        print(f"mode {mode}: calibration a={a:g} b={b:.2f} (validation score {score:.1f})")
        for name, v in list(val.items()) + [(n, combine(raw[n], mode)) for n in ("held_b", "held_w", "neu_te")]:
            s = summarise(v, a, b)
            mx, dd = np.array([r[0].max() for r in v]), np.array([r[2] for r in v])
            strip_auc = roc_auc(mx, dd) if dd.any() and (~dd).any() else float("nan")
            dec = s["decisions"]
            print(f"  {name:12s} pass/review/reject {dec['PASS']}/{dec['REVIEW']}/{dec['REJECT']}  missed "
                  f"{s['missed']}  false rejects {s['false_rejects']}  patch AUC {s['patch_auc'] if known(s.get('patch_auc')) else float('nan'):.3f}  "
                  f"strip AUC {strip_auc:.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("floor", "local"))
    ap.add_argument("--ckpt", required=True, help="finetune.py checkpoint (best.pt)")
    ap.add_argument("--work", required=True, help="feature cache folder (one per checkpoint)")
    ap.add_argument("--synth", action="append", default=None, help="synthetic training folders for the local head")
    ap.add_argument("--synth-limit", type=int, default=500)
    ap.add_argument("--crops", type=int, default=1200, help="crops of real steel and NEU-DET defects (0: none)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seeds", default="0", help="local heads to train and average, one per seed")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    a.synth = a.synth or [".cache/synth/train-b", ".cache/synth/train-w"]
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    ext = Extractor(a.ckpt)
    sets = load_sets(a.work, ext, a, training=a.what == "local")
    if a.what == "floor":
        floor_report(sets)
        return
    groups = [z for n, z in sets.items() if n.startswith(("tr_", "crops", "real_tr"))]
    heads = [train_local(groups, a.epochs, int(s)) for s in a.seeds.split(",")]
    local_report(sets, heads, ("shipped", "mid", "sum", "max"))


if __name__ == "__main__":
    main()
