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
import torch
import torch.nn as nn
import torch.nn.functional as F

# the window grid (CELL, WIN, window_labels, grid_indices) is shared with the shipped
# MobileNetV2 pipeline and lives in common.py; importable from here as before
from common import CELL, WIN, grid_indices, window_labels  # noqa: F401


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
