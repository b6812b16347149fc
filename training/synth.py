#!/usr/bin/env python3
"""Synthetic steel-strip generator in the Severstal layout.

Writes OUT/train_images/<hex id>.jpg (1600x256 grayscale JPEG) and OUT/train.csv
(ImageId,ClassId,EncodedPixels) with one row per (image, class present). RLE is
1-indexed, column-major over the 256x1600 mask (pixel index = x*256 + y + 1).

Classes (after Severstal): 1 pitting, 2 crazing, 3 scratches, 4 patches.
Nuisances that are NOT defects and never in the mask: brightness drift, rolling
streaks, oil/water marks, mottled/grain/rolled textures, blur, sensor noise,
JPEG re-compression, dark off-strip margins.

Design rule for learnability: every defect has sharp edges or thin structures
(edge width <= ~1.5 px), while every nuisance is smooth / low-frequency
(Gaussian scale >= 3 px for streaks, >= 12 px for marks) or spatially white noise.
The mask is exactly the set of pixels where the drawn defect reaches >= 35 % of its
contrast.

Usage:
  python3 synth.py --out DIR --count N --seed S [--defect-fraction 0.5]
                   [--jpeg-quality Q] [--workers 2] [--style base|wide]
  python3 synth.py --demo DIR --seed S       # the 8 named demo strips
"""
import argparse
import csv
import hashlib
import io
import os
import sys
from multiprocessing import Pool

import numpy as np
from PIL import Image
from scipy import ndimage

H, W = 256, 1600
CLASS_NAMES = {1: "pitting", 2: "crazing", 3: "scratches", 4: "patches"}
# Probability of each class per drawn defect (roughly Severstal's share of rows;
# crazing slightly boosted so that the model sees enough of it).
CLASS_P = np.array([0.13, 0.07, 0.69, 0.11])
MIN_AREA = 300
MASK_LEVEL = 0.35


# ----------------------------------------------------------------------------- RLE
def rle_encode(mask):
    """mask: (256, 1600) bool -> 'start length ...' (1-indexed, column-major)."""
    flat = np.asarray(mask, dtype=np.uint8).T.reshape(-1)
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends))


def rle_decode(rle, shape=(H, W)):
    h, w = shape
    flat = np.zeros(h * w, dtype=bool)
    if isinstance(rle, str) and rle.strip():
        vals = np.array(rle.split(), dtype=np.int64)
        for s, n in zip(vals[0::2], vals[1::2]):
            flat[s - 1:s - 1 + n] = True
    return flat.reshape(w, h).T


# ----------------------------------------------------------------------------- helpers
def smooth_noise(rng, h, w, scale, order=3):
    """Unit-std smooth noise with correlation length ~scale px."""
    scale = max(1.0, float(scale))
    lh, lw = int(np.ceil(h / scale)) + 4, int(np.ceil(w / scale)) + 4
    lo = rng.standard_normal((lh, lw)).astype(np.float32)
    up = ndimage.zoom(lo, scale, order=order, prefilter=False)
    up = up[:h, :w]
    if up.shape != (h, w):
        up = np.pad(up, ((0, h - up.shape[0]), (0, w - up.shape[1])), mode="edge")
    s = up.std()
    return (up - up.mean()) / (s + 1e-6)


def loguniform(rng, a, b):
    return float(np.exp(rng.uniform(np.log(a), np.log(b))))


class Canvas:
    """Accumulates defect intensity deltas and per-class masks."""

    def __init__(self):
        self.delta = np.zeros((H, W), np.float32)
        self.masks = {c: np.zeros((H, W), bool) for c in (1, 2, 3, 4)}

    def stamp(self, cls, y0, x0, alpha, value, allowed=None):
        """alpha: (h,w) in [0,1] placed at (y0,x0) (may be partly outside).
        value: scalar or (h,w) signed gray-level delta at alpha=1. Returns mask area."""
        h, w = alpha.shape
        ya, xa = max(0, y0), max(0, x0)
        yb, xb = min(H, y0 + h), min(W, x0 + w)
        if ya >= yb or xa >= xb:
            return 0
        a = alpha[ya - y0:yb - y0, xa - x0:xb - x0]
        v = value if np.isscalar(value) else value[ya - y0:yb - y0, xa - x0:xb - x0]
        m = a >= MASK_LEVEL
        if allowed is not None:
            keep = allowed[ya:yb, xa:xb]
            a = a * keep
            m = m & keep
        area = int(m.sum())
        if area < MIN_AREA:
            return area
        d = self.delta[ya:yb, xa:xb]
        contrib = (a * v).astype(np.float32)
        # combine: keep the stronger effect per pixel (defects overlap rarely)
        np.copyto(d, np.where(np.abs(contrib) > np.abs(d), contrib, d))
        self.masks[cls][ya:yb, xa:xb] |= m
        return area


def pick_contrast(rng, faint, lo_f, hi_f, lo, hi):
    return rng.uniform(lo_f, hi_f) if faint else rng.uniform(lo, hi)


def place(rng, size_h, size_w, edge_bias=0.25):
    """Top-left for a box of the given size; sometimes hugging a strip edge or
    crossing the 128-px patch grid, sometimes partly outside."""
    r = rng.random()
    if r < edge_bias:
        side = rng.integers(4)
        if side == 0:
            y0 = int(rng.integers(-size_h // 3, 8)); x0 = int(rng.integers(-size_w // 3, W - size_w // 2))
        elif side == 1:
            y0 = int(rng.integers(H - size_h - 8, H - size_h + size_h // 3 + 1)); x0 = int(rng.integers(-size_w // 3, W - size_w // 2))
        elif side == 2:
            x0 = int(rng.integers(-size_w // 3, 8)); y0 = int(rng.integers(-size_h // 3, max(-size_h // 3 + 1, H - size_h // 2)))
        else:
            x0 = int(rng.integers(W - size_w - 8, W - size_w + size_w // 3 + 1)); y0 = int(rng.integers(-size_h // 3, max(-size_h // 3 + 1, H - size_h // 2)))
    elif r < edge_bias + 0.25:
        # centred on a patch border (multiples of 128)
        cx = 128 * int(rng.integers(1, W // 128)) + int(rng.integers(-20, 21))
        cy = 128 + int(rng.integers(-30, 31))
        y0, x0 = cy - size_h // 2, cx - size_w // 2
    else:
        y0 = int(rng.integers(-size_h // 4, max(-size_h // 4 + 1, H - size_h + size_h // 4)))
        x0 = int(rng.integers(-size_w // 4, max(-size_w // 4 + 1, W - size_w + size_w // 4)))
    return y0, x0


def signed(rng, c, p_dark=0.7):
    return -c if rng.random() < p_dark else c


# ----------------------------------------------------------------------------- defects
def seg_dist(yy, xx, pts):
    """min distance of grid points to a polyline pts [(y,x),...]."""
    d = np.full(yy.shape, np.inf, np.float32)
    t_along = np.zeros(yy.shape, np.float32)
    acc = 0.0
    for (ya, xa), (yb, xb) in zip(pts[:-1], pts[1:]):
        vy, vx = yb - ya, xb - xa
        L2 = vy * vy + vx * vx + 1e-9
        t = np.clip(((yy - ya) * vy + (xx - xa) * vx) / L2, 0, 1)
        dy, dx = yy - (ya + t * vy), xx - (xa + t * vx)
        di = np.sqrt(dy * dy + dx * dx)
        better = di < d
        d = np.where(better, di, d)
        t_along = np.where(better, acc + t * np.sqrt(L2), t_along)
        acc += float(np.sqrt(L2))
    return d, t_along, acc


def draw_scratch(rng, cv, faint, allowed=None, obvious=False):
    r = rng.random()
    if r < 0.55:
        width = rng.uniform(1.0, 2.5)
    elif r < 0.85:
        width = rng.uniform(2.5, 5.0)
    else:
        width = rng.uniform(5.0, 12.0)
    length = loguniform(rng, 60, 1400)
    length = max(length, 1.2 * MIN_AREA / width)
    # orientation: any, with extra mass near vertical / horizontal / diagonal
    r = rng.random()
    if r < 0.3:
        ang = np.pi / 2 + rng.normal(0, 0.15)
    elif r < 0.45:
        ang = rng.normal(0, 0.05)
    else:
        ang = rng.uniform(0, np.pi)
    # vertical-ish lines are limited by the strip height: allow them to be short but thick enough
    dy, dx = np.sin(ang), np.cos(ang)
    if abs(dy) > 1e-3:
        length = min(length, max(60.0, 1.3 * H / abs(dy)))
    n_seg = int(rng.integers(1, 5))
    bend = rng.uniform(0, 0.035) * length
    ts = np.linspace(0, 1, n_seg + 1)
    pts = []
    offs = rng.normal(0, 1, n_seg + 1) * bend
    offs[0] = offs[-1] = 0
    for t, o in zip(ts, offs):
        pts.append((t * length * dy + o * dx, t * length * dx - o * dy))
    pts = np.array(pts, np.float32)
    pad = width + 3 + 1
    ymin, xmin = pts.min(0) - pad
    ymax, xmax = pts.max(0) + pad
    bh, bw = int(ymax - ymin) + 1, int(xmax - xmin) + 1
    y0, x0 = place(rng, min(bh, H + 40), min(bw, W), edge_bias=0.2)
    # keep the bbox reasonably inside when it is tall
    if bh > H:
        y0 = -int((bh - H) * rng.uniform(0.2, 0.8))
    pts_local = pts - np.array([ymin, xmin], np.float32)
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    d, t_al, total = seg_dist(yy, xx, [tuple(p) for p in pts_local])
    hw = width / 2
    alpha = np.clip(hw + 0.5 - d, 0, 1)
    # tapering ends + intermittent / fading intensity along the length
    taper = np.clip(np.minimum(t_al, total - t_al) / max(3.0, rng.uniform(0.0, 0.15) * total), 0, 1)
    mod = taper
    if rng.random() < 0.35:
        k = rng.uniform(8, 60)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(t_al / k + phase) + 0.6 * np.sin(t_al / (k * 0.37) + phase * 2)
        mod = mod * (wave > rng.uniform(-1.2, 0.2))
    alpha = alpha * mod
    c = pick_contrast(rng, faint, 13, 24, 24, 100) if not obvious else rng.uniform(45, 100)
    if faint and obvious is None:  # demo 'faint but visible'
        c = rng.uniform(20, 26)
    if width > 5:
        c = c * 0.85
    value = signed(rng, c, 0.65)
    if rng.random() < 0.25 and width >= 2:
        # bright/dark halo beside the groove (still sharp, still in the mask)
        halo = np.clip(hw + 2.0 - d, 0, 1) * (1 - np.clip(hw + 0.5 - d, 0, 1)) * mod
        alpha_total = np.maximum(alpha, halo)
        valmap = np.where(alpha >= halo, value, -0.6 * value).astype(np.float32)
        return cv.stamp(3, y0, x0, alpha_total, valmap, allowed)
    return cv.stamp(3, y0, x0, alpha, value, allowed)


def draw_pitting(rng, cv, faint, allowed=None, obvious=False):
    R = rng.uniform(15, 80) if not obvious else rng.uniform(40, 80)
    n = int(rng.integers(8, 70)) if not obvious else int(rng.integers(50, 90))
    rmin, rmax = (1.0, 2.5) if rng.random() < 0.5 else (1.5, 4.5)
    radii = np.exp(rng.uniform(np.log(rmin), np.log(rmax), n)).astype(np.float32)
    # make sure the drawn area is big enough
    while np.sum(np.pi * radii ** 2) < MIN_AREA * 1.3:
        radii = np.concatenate([radii, np.exp(rng.uniform(np.log(rmin), np.log(rmax), 8)).astype(np.float32)])
    n = len(radii)
    ang = rng.uniform(0, 2 * np.pi, n)
    rr = R * np.sqrt(rng.uniform(0, 1, n)) if rng.random() < 0.5 else np.abs(rng.normal(0, R / 2, n))
    ecc = rng.uniform(0.4, 1.0)
    cy = (rr * np.sin(ang) * ecc).astype(np.float32)
    cx = (rr * np.cos(ang)).astype(np.float32)
    size = int(2 * (R * 1.2 + rmax + 3))
    off = size / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    # vectorised discs, chunked over spots
    alpha = np.zeros((size, size), np.float32)
    sgn_map = np.zeros((size, size), np.float32)
    c = pick_contrast(rng, faint, 16, 30, 30, 110) if not obvious else rng.uniform(60, 110)
    mixed = rng.random() < 0.3
    base_sign = -1.0 if rng.random() < 0.75 else 1.0
    signs = np.where(rng.random(n) < 0.3, -base_sign, base_sign) if mixed else np.full(n, base_sign)
    spot_c = rng.uniform(0.6, 1.0, n)
    for i in range(0, n, 32):
        sl = slice(i, i + 32)
        d = np.sqrt((yy[None] - (cy[sl, None, None] + off)) ** 2 + (xx[None] - (cx[sl, None, None] + off)) ** 2)
        a = np.clip(radii[sl, None, None] + 0.5 - d, 0, 1) * spot_c[sl, None, None]
        idx = a.argmax(0)
        amax = a.max(0)
        better = amax > alpha
        alpha = np.where(better, amax, alpha)
        sgn_map = np.where(better, signs[sl][idx], sgn_map)
    y0, x0 = place(rng, size, size)
    return cv.stamp(1, y0, x0, alpha, (sgn_map * c).astype(np.float32), allowed)


def draw_crazing(rng, cv, faint, allowed=None, obvious=False):
    bh = int(rng.uniform(70, 256))
    bw = int(rng.uniform(80, 380))
    cell = rng.uniform(9, 28)
    nseed = max(6, int(bh * bw / cell ** 2))
    sy = rng.uniform(0, bh, nseed).astype(np.float32)
    sx = rng.uniform(0, bw, nseed).astype(np.float32)
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    warp = rng.uniform(1.0, 4.0)
    yw = yy + warp * smooth_noise(rng, bh, bw, rng.uniform(6, 16))
    xw = xx + warp * smooth_noise(rng, bh, bw, rng.uniform(6, 16))
    # anisotropy (crazing often elongated along rolling direction)
    an = rng.uniform(0.6, 1.6)
    d1 = np.full((bh, bw), np.inf, np.float32)
    d2 = np.full((bh, bw), np.inf, np.float32)
    for i in range(nseed):
        d = np.sqrt(((yw - sy[i]) * an) ** 2 + (xw - sx[i]) ** 2)
        closer = d < d1
        d2 = np.where(closer, d1, np.minimum(d2, d))
        d1 = np.where(closer, d, d1)
    dist = (d2 - d1) / 2
    width = rng.uniform(0.7, 1.8)
    alpha = np.clip(width / 2 + 0.5 - dist, 0, 1)
    # region: irregular blob, and drop some crack segments
    ry, rx = (yy - bh / 2) / (bh / 2), (xx - bw / 2) / (bw / 2)
    blob = 1 - np.sqrt(ry ** 2 + rx ** 2) + 0.35 * smooth_noise(rng, bh, bw, rng.uniform(20, 50))
    region = blob > rng.uniform(0.0, 0.25)
    keep = smooth_noise(rng, bh, bw, cell * 0.8) > rng.uniform(-1.5, -0.2)
    alpha = alpha * region * keep
    c = pick_contrast(rng, faint, 16, 28, 28, 80) if not obvious else rng.uniform(50, 85)
    value = signed(rng, c, 0.85)
    y0, x0 = place(rng, bh, bw)
    return cv.stamp(2, y0, x0, alpha.astype(np.float32), value, allowed)


def draw_patch(rng, cv, faint, allowed=None, obvious=False):
    bh = int(rng.uniform(50, 256))
    bw = int(loguniform(rng, 60, 600))
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    ry, rx = (yy - bh / 2) / (bh / 2), (xx - bw / 2) / (bw / 2)
    shape = 1 - np.sqrt(ry ** 2 + rx ** 2) + rng.uniform(0.3, 0.7) * smooth_noise(rng, bh, bw, rng.uniform(8, 40))
    region = (shape > rng.uniform(0.05, 0.35)).astype(np.float32)
    # sharp-ish edge: at most ~1.2 px of softening
    alpha = ndimage.gaussian_filter(region, rng.uniform(0.3, 1.0))
    kind = rng.random()
    c = pick_contrast(rng, faint, 14, 24, 24, 70) if not obvious else rng.uniform(40, 75)
    value = signed(rng, c, 0.6)
    if kind < 0.45:
        val = value * (1 + 0.25 * smooth_noise(rng, bh, bw, rng.uniform(3, 12)))
    elif kind < 0.8:
        # rough / textured interior (mill scale): grainy
        grain = ndimage.gaussian_filter(rng.standard_normal((bh, bw)).astype(np.float32), rng.uniform(0.6, 1.5))
        grain /= grain.std() + 1e-6
        val = value * (0.8 + 0.5 * grain)
    else:
        # flaky: several small islands inside the region
        isl = (smooth_noise(rng, bh, bw, rng.uniform(4, 10)) > rng.uniform(-0.3, 0.5)).astype(np.float32)
        region2 = region * isl
        if region2.sum() > MIN_AREA * 1.5:
            alpha = ndimage.gaussian_filter(region2, rng.uniform(0.3, 0.8))
        val = np.full((bh, bw), value, np.float32)
    y0, x0 = place(rng, bh, bw)
    return cv.stamp(4, y0, x0, alpha.astype(np.float32), val.astype(np.float32), allowed)


DRAW = {1: draw_pitting, 2: draw_crazing, 3: draw_scratch, 4: draw_patch}


# ----------------------------------------------------------------------------- background
def background(rng):
    base = rng.uniform(45, 200)
    img = np.full((H, W), base, np.float32)
    # textures: random mix
    if rng.random() < 0.8:  # mottled
        img += rng.uniform(1, 10) * smooth_noise(rng, H, W, rng.uniform(3, 30))
    if rng.random() < 0.6:  # rolled texture: elongated along x
        g = rng.standard_normal((H, W)).astype(np.float32)
        g = ndimage.gaussian_filter(g, (rng.uniform(0.5, 2.0), rng.uniform(8, 60)))
        img += rng.uniform(1.5, 8) * g / (g.std() + 1e-6)
    if rng.random() < 0.5:  # fine grain
        g = ndimage.gaussian_filter(rng.standard_normal((H, W)).astype(np.float32), rng.uniform(0.6, 1.5))
        img += rng.uniform(1, 6) * g / (g.std() + 1e-6)
    if rng.random() < 0.3:  # periodic roll marks across (smooth, low amplitude)
        y = np.arange(H, dtype=np.float32)
        img += (rng.uniform(0.5, 3) * np.sin(2 * np.pi * y / rng.uniform(12, 80) + rng.uniform(0, 6)))[:, None]
    # brightness drift along the strip (and a little across)
    x = np.linspace(0, 1, W, dtype=np.float32)
    drift = rng.uniform(-25, 25) * (x - 0.5)
    for _ in range(int(rng.integers(0, 4))):
        drift += rng.uniform(3, 15) * np.sin(2 * np.pi * x * rng.uniform(0.3, 3) + rng.uniform(0, 6))
    img += drift[None, :]
    yv = np.linspace(-1, 1, H, dtype=np.float32)
    img += (rng.uniform(-12, 12) * yv ** 2 + rng.uniform(-8, 8) * yv)[:, None]
    # rolling streaks: long horizontal smooth low-contrast bands
    for _ in range(int(rng.integers(0, 7))):
        yc = rng.uniform(0, H)
        sig = rng.uniform(3, 18)
        amp = rng.uniform(2, 8) * (1 if rng.random() < 0.5 else -1)
        xs = rng.uniform(-200, W)
        xe = xs + rng.uniform(400, 2000)
        ramp = rng.uniform(60, 200)
        prof_y = np.exp(-0.5 * ((np.arange(H) - yc) / sig) ** 2).astype(np.float32)
        xx = np.arange(W, dtype=np.float32)
        prof_x = np.clip((xx - xs) / ramp, 0, 1) * np.clip((xe - xx) / ramp, 0, 1)
        img += amp * prof_y[:, None] * prof_x[None, :]
    # oil / water marks: soft blobs and soft rings
    for _ in range(int(rng.integers(0, 5))):
        cy, cx = rng.uniform(-20, H + 20), rng.uniform(0, W)
        sy, sx = rng.uniform(12, 70), rng.uniform(12, 110)
        th = rng.uniform(0, np.pi)
        m = int(3 * max(sy, sx))
        y0, y1 = max(0, int(cy - m)), min(H, int(cy + m))
        x0, x1 = max(0, int(cx - m)), min(W, int(cx + m))
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
        v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
        r2 = (u / sx) ** 2 + (v / sy) ** 2
        amp = rng.uniform(3, 20) * (1 if rng.random() < 0.4 else -1)
        if rng.random() < 0.35:  # water ring (smooth)
            r = np.sqrt(r2)
            prof = np.exp(-0.5 * ((r - 1.0) / rng.uniform(0.25, 0.5)) ** 2)
            amp *= 0.6
        else:
            prof = np.exp(-0.5 * r2)
        img[y0:y1, x0:x1] += amp * prof
    return img, base


def finish(rng, img, jpeg_quality):
    # slight blur
    if rng.random() < 0.5:
        img = ndimage.gaussian_filter(img, rng.uniform(0.3, 0.9))
    # sensor noise (white + a little column fixed-pattern noise)
    img = img + rng.uniform(0.5, 5) * rng.standard_normal((H, W)).astype(np.float32)
    if rng.random() < 0.3:
        img = img + rng.uniform(0.3, 2) * rng.standard_normal((1, W)).astype(np.float32)
    im8 = np.clip(np.round(img), 0, 255).astype(np.uint8)
    pil = Image.fromarray(im8, "L")
    if rng.random() < 0.4:  # earlier compression generation
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=int(rng.integers(40, 86)))
        buf.seek(0)
        pil = Image.open(buf).convert("L")
    q = int(jpeg_quality) if jpeg_quality else int(rng.integers(60, 96))
    return pil, q


# ----------------------------------------------------------------------------- wide style
def wide_background(rng, img):
    """Extra nuisances (all smooth or line-structured, never sharp-edged blobs): grain along
    other directions, line-scan row gain jitter, vertical roll banding, a shifted overall
    level (very dark to very bright strips) and lateral shading."""
    h, w = img.shape
    if rng.random() < 0.5:  # grain along y or oblique
        g = rng.standard_normal((h, w)).astype(np.float32)
        g = ndimage.gaussian_filter(g, (rng.uniform(4, 30), rng.uniform(0.8, 2.0)))
        if rng.random() < 0.5:
            g = ndimage.rotate(g, rng.uniform(-40, 40), reshape=False, mode="reflect", order=1)
        img = img + rng.uniform(1, 4) * g / (g.std() + 1e-6)
    if rng.random() < 0.3:  # line-scan camera: per-row gain jitter
        img = img * (1 + rng.uniform(0.005, 0.03) * rng.standard_normal((h, 1)).astype(np.float32))
    if rng.random() < 0.3:  # smooth vertical banding (roll marks along the strip)
        x = np.arange(w, dtype=np.float32)
        img = img + (rng.uniform(1, 6) * np.sin(2 * np.pi * x / rng.uniform(20, 300) + rng.uniform(0, 6)))[None, :]
    if rng.random() < 0.4:  # overall level outside the base range, never so far that defects clip away
        m = float(img.mean())
        img = img + (np.clip(m + rng.uniform(-60, -25), 28, m) - m if rng.random() < 0.5
                     else np.clip(m + rng.uniform(25, 50), m, 225) - m)
    if rng.random() < 0.3:  # lateral shading (illumination falls off towards one edge)
        y = np.linspace(0, 1, h, dtype=np.float32)
        img = img * (1 - rng.uniform(0.1, 0.35) * (y if rng.random() < 0.5 else y[::-1]) ** 2)[:, None]
    return img


def wide_photometry(rng, img):
    """Camera response after the defects are drawn: gamma and a contrast stretch that also
    scales every defect's contrast (x0.75 to x1.3)."""
    img = np.clip(img, 0, 255)
    if rng.random() < 0.5:
        img = 255.0 * (img / 255.0) ** rng.uniform(0.65, 1.5)
    if rng.random() < 0.5:
        m = float(img.mean())
        img = m + (img - m) * rng.uniform(0.75, 1.3)
    return img.astype(np.float32)


def wide_finish(rng, img, jpeg_quality):
    """finish() with heavier blur, noise and compression now and then."""
    if rng.random() < 0.25:
        img = ndimage.gaussian_filter(img, rng.uniform(0.9, 1.6))
    if rng.random() < 0.25:
        img = img + rng.uniform(4, 8) * rng.standard_normal(img.shape).astype(np.float32)
    if jpeg_quality is None and rng.random() < 0.3:
        jpeg_quality = int(rng.integers(35, 60))
    return finish(rng, img, jpeg_quality)


def make_strip(rng, defective, jpeg_quality=None, classes=None, faint=None, obvious=False, style="base",
               faint_strips=0.3):
    """Returns (PIL image, quality, {class: mask}). style="wide" adds the extra variety of
    wide_background / wide_photometry / wide_finish (other textures, brightness levels,
    contrasts, blur and compression than the base generator), for training that has to
    generalise to strips from other sources. faint_strips is the share of defective strips
    whose defects are all faint (others get a faint defect one time in five)."""
    img, base = background(rng)
    if style == "wide":
        img = wide_background(rng, img)
    allowed = None
    if rng.random() < 0.06 and not obvious:
        # dark off-strip margin on the left or right (not a defect; no defects there)
        xe = int(rng.uniform(60, 500))
        dark = rng.uniform(3, 25)
        edge = np.clip((np.arange(W) - xe) / rng.uniform(0.7, 2.0), 0, 1).astype(np.float32)
        if rng.random() < 0.5:
            edge = edge[::-1]
        img = dark + (img - dark) * edge[None, :]
        allowed = np.ascontiguousarray(np.broadcast_to(edge[None, :] > 0.999, (H, W)))
    cv = Canvas()
    if defective:
        if classes is None:
            r = rng.random()
            k = 1 if r < 0.6 else (2 if r < 0.85 else int(rng.integers(3, 6)))
            classes = list(rng.choice([1, 2, 3, 4], size=k, p=CLASS_P))
        f_strip = rng.random() < faint_strips  # strips whose defects are all faint
        for c in classes:
            fnt = faint if faint is not None else (f_strip or rng.random() < 0.2)
            for _attempt in range(12):
                area = DRAW[c](rng, cv, fnt, allowed, obvious)
                if area >= MIN_AREA:
                    break
    img = img + cv.delta
    if style == "wide":
        img = wide_photometry(rng, img)
        pil, q = wide_finish(rng, img, jpeg_quality)
    else:
        pil, q = finish(rng, img, jpeg_quality)
    masks = {c: m for c, m in cv.masks.items() if m.any()}
    return pil, q, masks


# ----------------------------------------------------------------------------- CLI
def image_id(seed, i):
    return hashlib.sha1(f"steel-synth-{seed}-{i}".encode()).hexdigest()[:9] + ".jpg"


def _work(args):
    seed, i, defective, out_dir, q, style, faint_strips = args
    rng = np.random.default_rng([seed, i])
    for _ in range(5):
        pil, qq, masks = make_strip(rng, defective, q, style=style, faint_strips=faint_strips)
        if masks or not defective:
            break
    iid = image_id(seed, i)
    pil.save(os.path.join(out_dir, "train_images", iid), "JPEG", quality=qq)
    return [(iid, c, rle_encode(m)) for c, m in sorted(masks.items())]


def generate(out_dir, count, seed, defect_fraction=0.5, jpeg_quality=None, workers=2, style="base",
             faint_strips=0.3):
    os.makedirs(os.path.join(out_dir, "train_images"), exist_ok=True)
    rng = np.random.default_rng(seed)
    n_def = int(round(count * defect_fraction))
    defective = np.zeros(count, bool)
    defective[rng.permutation(count)[:n_def]] = True
    jobs = [(seed, i, bool(defective[i]), out_dir, jpeg_quality, style, faint_strips) for i in range(count)]
    rows = []
    if workers > 1:
        with Pool(workers) as pool:
            for r in pool.imap(_work, jobs, chunksize=8):
                rows.extend(r)
    else:
        for j in jobs:
            rows.extend(_work(j))
    with open(os.path.join(out_dir, "train.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ImageId", "ClassId", "EncodedPixels"])
        w.writerows(rows)
    return rows


DEMO = [
    ("clean-1.jpg", None, None), ("clean-2.jpg", None, None),
    ("pitting.jpg", [1], False), ("crazing.jpg", [2], False),
    ("scratches.jpg", [3, 3], False), ("patches.jpg", [4], False),
    ("scratches-faint.jpg", [3], True), ("mixed.jpg", [1, 3, 4], False),
]


def generate_demo(out_dir, seed):
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for i, (name, classes, faint) in enumerate(DEMO):
        rng = np.random.default_rng([seed, 1000 + i])
        pil, _, masks = make_strip(rng, classes is not None, 92, classes=classes,
                                   faint=faint, obvious=(None if faint else classes is not None))
        pil.save(os.path.join(out_dir, name), "JPEG", quality=92)
        rows += [(name, c, rle_encode(m)) for c, m in sorted(masks.items())]
    with open(os.path.join(out_dir, "train.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ImageId", "ClassId", "EncodedPixels"])
        w.writerows(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--demo", help="write the 8 named demo strips into this folder")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--defect-fraction", type=float, default=0.5)
    ap.add_argument("--jpeg-quality", type=int, default=None, help="fixed quality (default: random 60-95)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--style", choices=("base", "wide"), default="base",
                    help="wide: extra textures, levels, contrasts, blur and compression (see wide_background)")
    ap.add_argument("--faint-strips", type=float, default=0.3,
                    help="share of defective strips whose defects are all faint (hard examples for fine-tuning)")
    a = ap.parse_args(argv)
    if a.demo:
        generate_demo(a.demo, a.seed)
        return
    if not a.out:
        ap.error("--out or --demo required")
    rows = generate(a.out, a.count, a.seed, a.defect_fraction, a.jpeg_quality, a.workers, a.style,
                    a.faint_strips)
    print(f"wrote {a.count} strips, {len(rows)} defect rows to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
