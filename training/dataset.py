"""Severstal-layout reader, RLE codec, 256x256/stride-128 tiling and patch labels.

Accepts both CSV layouts:
  * new:  ImageId,ClassId,EncodedPixels   (one row per image and class present)
  * old:  ImageId_ClassId,EncodedPixels   (4 rows per image, empty RLE when absent)
Images without any row are defect-free (all files in train_images/ are used).
"""
import csv
import os

import numpy as np
from PIL import Image

PATCH = 256
STRIDE = 128
MIN_DEFECT_PIXELS = 50  # a patch is defective when its merged mask has >= 50 px


def rle_decode(rle, shape=(256, 1600)):
    """Severstal RLE (1-indexed, column-major) -> bool mask of shape (h, w)."""
    h, w = shape
    flat = np.zeros(h * w, dtype=bool)
    if isinstance(rle, str) and rle.strip():
        vals = np.asarray(rle.split(), dtype=np.int64)
        starts, lengths = vals[0::2] - 1, vals[1::2]
        for s, n in zip(starts, lengths):
            flat[s:s + n] = True
    return flat.reshape(w, h).T


def rle_encode(mask):
    flat = np.asarray(mask, dtype=np.uint8).T.reshape(-1)
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends))


def read_mask_csv(path, keep_empty=False):
    """A mask CSV in either layout -> dict ImageId -> list[(class_id, rle)] of its non-empty masks (images whose
    rows are all empty are listed with no masks when keep_empty)."""
    ann = {}
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        old = header[0].strip() == "ImageId_ClassId"
        for row in rd:
            if not row:
                continue
            if old:
                iid, cls = row[0].rsplit("_", 1)
                rle = row[1] if len(row) > 1 else ""
            else:
                iid, cls, rle = row[0], row[1], row[2] if len(row) > 2 else ""
            if keep_empty:
                ann.setdefault(iid, [])
            if rle.strip():
                ann.setdefault(iid, []).append((int(cls), rle))
    return ann


def read_annotations(root):
    """-> dict ImageId -> list[(class_id, rle)] for every image file in root/train_images."""
    ann = {}
    csv_path = os.path.join(root, "train.csv")
    if os.path.exists(csv_path):
        for iid, rles in read_mask_csv(csv_path, keep_empty=True).items():
            ann.setdefault(iid, []).extend(rles)
    img_dir = os.path.join(root, "train_images")
    if os.path.isdir(img_dir):
        for fn in os.listdir(img_dir):
            if fn.lower().endswith((".jpg", ".jpeg", ".png")):
                ann.setdefault(fn, [])
    return dict(sorted(ann.items()))


def tile_positions(width, height, size=PATCH, stride=STRIDE):
    """Top-left corners: stride grid plus a last tile flush with the right/bottom edge."""
    def axis(n):
        if n <= size:
            return [0]
        p = list(range(0, n - size + 1, stride))
        if p[-1] != n - size:
            p.append(n - size)
        return p
    return [(y, x) for y in axis(height) for x in axis(width)]


def patch_labels(mask, positions, size=PATCH, min_pixels=MIN_DEFECT_PIXELS):
    return np.array([int(mask[y:y + size, x:x + size].sum() >= min_pixels) for y, x in positions], np.int64)


def load_strip(root, image_id, rles, shape=None):
    img = np.asarray(Image.open(os.path.join(root, "train_images", image_id)).convert("L"), dtype=np.uint8)
    mask = np.zeros(img.shape, bool)
    for _cls, rle in rles:
        mask |= rle_decode(rle, img.shape)
    return img, mask


class StripSet:
    """All strips of a folder held in memory (uint8 images + merged bool masks)."""

    def __init__(self, root, limit=None):
        self.root = root
        ann = read_annotations(root)
        items = list(ann.items())
        if limit:
            items = items[:limit]
        self.ids = [k for k, _ in items]
        self.classes = [sorted({c for c, _ in v}) for _, v in items]
        self.images, self.masks = [], []
        for iid, rles in items:
            img, m = load_strip(root, iid, rles)
            self.images.append(img)
            self.masks.append(m)

    def __len__(self):
        return len(self.ids)

    def tiles(self, i):
        """-> (patches uint8 [n,256,256], labels [n], positions)"""
        img, m = self.images[i], self.masks[i]
        pos = tile_positions(img.shape[1], img.shape[0])
        patches = np.stack([img[y:y + PATCH, x:x + PATCH] for y, x in pos])
        return patches, patch_labels(m, pos), pos
