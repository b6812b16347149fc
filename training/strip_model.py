"""Whole-strip variant of the patch classifier (issue 8).

The per-patch model runs the EfficientNet-B0 backbone on every 256x256 tile; with the
50 % overlap every pixel goes through it twice. The whole-strip model runs the same
backbone once over the strip (any height and width that are multiples of 32, at least
256), averages its /32 feature map over every 8x8-cell window at a stride of one cell
(32 px), and applies the same 1280-256-128-1 head to each window as 1x1 convolutions.
The output is a score map [N, H/32-7, W/32-7]: the window whose top-left cell is
(r, c) covers pixels [32r, 32r+256) x [32c, 32c+256), so the engine reads the
256/128 tiling (and the flush last tile, when it lies on the 32-px grid) straight off it.

Training uses every cell offset, not just the 128-px grid: 43 overlapping labelled
windows per 1600x256 strip, each labelled by the seed's rule (>= 50 mask pixels).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from dataset import MIN_DEFECT_PIXELS, PATCH, tile_positions

CELL = 32
WIN = PATCH // CELL  # 8 cells


class StripNet(nn.Module):
    """Backbone once over the strip, window-pooled features, per-window head (logits)."""

    def __init__(self, patch_model):
        super().__init__()
        self.features = patch_model.features
        lin = [m for m in patch_model.classifier if isinstance(m, nn.Linear)]
        assert [(l.in_features, l.out_features) for l in lin] == [(1280, 256), (256, 128), (128, 1)]
        self.head = nn.Sequential(
            nn.Conv2d(1280, 256, 1), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Conv2d(256, 128, 1), nn.ReLU(inplace=True), nn.Dropout(0.2),
            nn.Conv2d(128, 1, 1),
        )
        convs = [m for m in self.head if isinstance(m, nn.Conv2d)]
        with torch.no_grad():
            for c, l in zip(convs, lin):
                c.weight.copy_(l.weight.view(l.out_features, l.in_features, 1, 1))
                c.bias.copy_(l.bias)

    def forward(self, x):
        f = self.features(x)
        pooled = F.avg_pool2d(f, WIN, stride=1)
        return self.head(pooled)[:, 0]


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
