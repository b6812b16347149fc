"""Helpers every training script shares: the ROC AUC, metrics that may be undefined on a
split, JSON that never holds NaN or Infinity, the engine's input normalisation, the training
augmentation, the 32-px window grid of a whole-strip model, and a run's log.

The shipped pipeline (finetune.py, mnv2_model.py, quantize.py, ...) imports only this module and
its neighbours in training/, never lab/ or legacy/; the retired EfficientNet scripts in legacy/
take their normalisation, augmentation and window grid from here too.

JSON has no NaN and no Infinity. Python's json module writes them anyway unless told not to,
and the Go side (rightly) refuses such a file. So every JSON the pipeline writes or prints
goes through write_json or dumps, which pass allow_nan=False: a non-finite number that slips
through raises here, naming the field, instead of breaking the station later. A metric that
cannot be computed on a split is written as null with the reason beside it (put_metric).
"""
import json
import math
import os
import time

import numpy as np

from dataset import MIN_DEFECT_PIXELS, PATCH, tile_positions

# The reason written beside an AUC that a split with one class only cannot give.
ONE_CLASS = "one class only in this split"


def roc_auc(scores, labels):
    """The Mann-Whitney ROC AUC (ties count half), or NaN when the labels hold one class only.
    Use put_metric to store it: NaN never goes into JSON."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels).astype(bool)
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1
        i = j + 1
    r = np.empty_like(ranks)
    r[order] = ranks
    return float((r[labels].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def auc_reason(labels):
    """Why an AUC over these labels cannot be computed, or None when it can."""
    labels = np.asarray(labels).astype(bool)
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos and nneg:
        return None
    return f"{ONE_CLASS} ({npos} defective, {nneg} defect-free)"


def put_metric(out, key, value, why):
    """out[key] = value when it is a finite number; otherwise out[key] = None and
    out[key + "_why"] = why (a plain reason such as "one class only in this split")."""
    if value is not None and math.isfinite(value):
        out[key] = float(value)
        out.pop(key + "_why", None)
    else:
        out[key] = None
        out[key + "_why"] = why
    return out


def known(value):
    """True when a metric was computed (neither null nor NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def rounded(value, digits=6):
    """round() that leaves an undefined metric (None) alone."""
    return None if value is None else round(float(value), digits)


def _where_not_finite(obj, path="$"):
    """The JSON path of the first NaN or Infinity in obj, or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = _where_not_finite(v, f"{path}.{k}")
            if p:
                return p
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            p = _where_not_finite(v, f"{path}[{i}]")
            if p:
                return p
    return None


def dumps(obj, **kw):
    """json.dumps with allow_nan=False; the error names the field that is not finite."""
    try:
        return json.dumps(obj, allow_nan=False, **kw)
    except ValueError as e:
        where = _where_not_finite(obj)
        raise ValueError(f"{where}: {e}" if where else str(e)) from None


def write_json(path, obj, indent=2):
    """Write obj as JSON to path atomically (a temporary file, then a rename), never with NaN or
    Infinity: a non-finite value raises ValueError naming the file and the field, and the old
    file is left as it was."""
    try:
        text = dumps(obj, indent=indent)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    try:
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(path + ".tmp", path)
    except BaseException:
        if os.path.exists(path + ".tmp"):
            os.remove(path + ".tmp")
        raise


# ---- the engine's preprocessing and the training augmentation (torch is imported on use, so
# that scripts without a network, such as quantize.py, do not load it)

# ImageNet channel statistics: the engine computes (pixel * scale - mean[c]) / std[c], the grey
# value copied into all 3 channels.
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def normalize(gray):
    """gray: float tensor [N,1,H,W] in 0..255 -> [N,3,H,W] normalised like the engine."""
    import torch
    mean = torch.tensor(MEAN, dtype=gray.dtype, device=gray.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=gray.dtype, device=gray.device).view(1, 3, 1, 1)
    return (gray * (1.0 / 255.0) - mean) / std


def augment(x, gen, flips=True):
    """x: float [N,1,H,W] 0..255 (gray). Flips (unless the caller flips image and mask
    itself), brightness/contrast, gamma, noise, blur."""
    import torch
    import torch.nn.functional as F
    n = x.shape[0]
    dev = x.device

    def r(*shape):
        return torch.rand(*shape, generator=gen).to(dev)
    if flips:
        f = r(n) < 0.5
        x = torch.where(f.view(-1, 1, 1, 1), x.flip(3), x)
        f = r(n) < 0.5
        x = torch.where(f.view(-1, 1, 1, 1), x.flip(2), x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    c = 0.7 + 0.6 * r(n, 1, 1, 1)
    b = (r(n, 1, 1, 1) - 0.5) * 60
    x = (x - mean) * c + mean + b
    x = x.clamp(0, 255)
    g = torch.exp((r(n, 1, 1, 1) - 0.5) * 0.5)
    x = 255.0 * (x / 255.0) ** g
    # blur on ~30 %
    sig = 0.4 + 0.6 * r(1).item()
    k = torch.exp(-0.5 * (torch.arange(-2, 3, dtype=x.dtype, device=dev) / sig) ** 2)
    k = k / k.sum()
    blurred = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5))
    blurred = F.conv2d(F.pad(blurred, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1))
    f = r(n) < 0.3
    x = torch.where(f.view(-1, 1, 1, 1), blurred, x)
    # sensor noise
    sd = r(n, 1, 1, 1) * 5.0 * (r(n, 1, 1, 1) < 0.6)
    x = x + sd * torch.randn(x.shape, generator=gen).to(dev)
    return x.clamp(0, 255)


# ---- the whole-strip models' window grid: the backbone's /32 cells, every 8x8-cell window at a
# stride of one cell; the window whose top-left cell is (r, c) covers pixels
# [32r, 32r+256) x [32c, 32c+256)

CELL = 32
WIN = PATCH // CELL  # 8 cells


def window_labels(mask, min_pixels=MIN_DEFECT_PIXELS):
    """bool mask [H,W] (H, W multiples of 32) -> int labels [H/32-7, W/32-7] for every
    256x256 window on the 32-px grid (>= min_pixels mask pixels inside)."""
    h, w = mask.shape
    cells = mask.reshape(h // CELL, CELL, w // CELL, CELL).sum(axis=(1, 3)).astype(np.int64)
    ii = np.zeros((cells.shape[0] + 1, cells.shape[1] + 1), np.int64)
    ii[1:, 1:] = cells.cumsum(0).cumsum(1)
    s = ii[WIN:, WIN:] - ii[:-WIN, WIN:] - ii[WIN:, :-WIN] + ii[:-WIN, :-WIN]
    return (s >= min_pixels).astype(np.int64)


def grid_indices(width, height):
    """(row, col) cell indices in the score map of the engine's tiling (stride grid plus
    a flush last tile), valid when width and height are multiples of 32."""
    return [(y // CELL, x // CELL) for y, x in tile_positions(width, height)]


def make_logger(out):
    """-> say(*parts): a time-stamped line to stdout and OUT/train.log."""
    os.makedirs(out, exist_ok=True)
    log = open(os.path.join(out, "train.log"), "a")

    def say(*parts):
        msg = time.strftime("%H:%M:%S ") + " ".join(str(x) for x in parts)
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()
    return say
