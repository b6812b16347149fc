"""Export the anomaly backbone that `steelinspect teach` builds good-steel models on (issue 15).

ImageNet MobileNetV2 (../shared/pretrained), cut after block 13, with no training: mid-level
features in the manner of PatchCore. Block 6 (32 channels, stride 8, averaged 2x2 down to stride
16) and block 13 (96 channels, stride 16) are concatenated: one 128-value feature per 16x16-pixel
cell of the strip. The strip is mirrored by one cell on every side before the backbone and the
extra cells cropped off after: its edge cells are then computed like any other, not against the
convolutions' zero padding (with zero padding the corners were the most anomalous cells of
nearly every good strip; strip ROC AUC on testdata/heldout rose from 0.93 to 0.98).

The same graph does the nearest-neighbour search, so the station needs no second pass and no
Python: it takes the memory bank as two more inputs and returns, for every cell, the Euclidean
distance to its nearest bank feature (ONNX Runtime's matrix multiply).

Inputs:   input        [1, 3, H, W]   ImageNet-normalised pixels (H, W multiples of 16)
          bank_t       [128, N]       the memory bank, one feature per column
          bank_sqnorm  [N]            squared length of each bank feature
Outputs:  distance     [1, H/16, W/16]       distance of each cell to its nearest bank feature
          features     [1, 128, H/16, W/16]  each cell's feature (what teaching collects)

Teaching feeds a one-column bank and reads features; scoring feeds the taught bank and reads
distance. The backbone's convolutions are then quantised to INT8 (training/quantize.py, ranges
calibrated on the features-only graph, whose node names are the same); the search stays float.
The result is committed as models/anomaly-mnv2-backbone.onnx and embedded in the binary. The
commands are in training/NOTEBOOK.md ("The anomaly backbone").
"""
import argparse
import hashlib
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
PRETRAINED = os.path.join(HERE, "..", "..", "shared", "pretrained", "mobilenet_v2_imagenet_from_coral_tflite_quant.pth")
CELL = 16
DIM = 32 + 96
PAD = CELL  # mirrored border, one cell


class AnomalyBackbone(nn.Module):
    def __init__(self, pretrained):
        super().__init__()
        m = torchvision.models.mobilenet_v2()
        m.load_state_dict(torch.load(pretrained, map_location="cpu"))
        self.low = m.features[:7]    # stride 8, 32 channels
        self.mid = m.features[7:14]  # stride 16, 96 channels

    def features(self, x):
        x = F.pad(x, (PAD, PAD, PAD, PAD), mode="reflect")
        a = self.low(x)
        b = self.mid(a)
        f = torch.cat([F.avg_pool2d(a, 2, stride=2), b], 1)
        c = PAD // CELL
        return f[:, :, c:f.shape[2] - c, c:f.shape[3] - c]

    def forward(self, x, bank_t, bank_sqnorm):
        f = self.features(x)
        n, d, h, w = f.shape
        q = f.reshape(d, h * w).transpose(0, 1)                          # [HW, D]
        d2 = (q * q).sum(1, keepdim=True) - 2.0 * (q @ bank_t) + bank_sqnorm.unsqueeze(0)
        dist = torch.sqrt(torch.clamp(d2.min(1).values, min=0.0))
        return dist.reshape(1, h, w), f


class FeaturesOnly(nn.Module):
    """The feature part alone, its nodes named as in the whole graph (calibration ranges carry over)."""

    def __init__(self, net):
        super().__init__()
        self.low, self.mid = net.low, net.mid

    features = AnomalyBackbone.features

    def forward(self, x):
        return self.features(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--pretrained", default=PRETRAINED)
    ap.add_argument("--features-only", action="store_true",
                    help="export only input -> features (what training/quantize.py calibrates on)")
    a = ap.parse_args(argv)
    import onnx
    net = AnomalyBackbone(a.pretrained).eval()
    if a.features_only:
        torch.onnx.export(FeaturesOnly(net), torch.zeros(1, 3, 256, 512), a.out, opset_version=17,
                          input_names=["input"], output_names=["features"],
                          dynamic_axes={"input": {2: "H", 3: "W"}, "features": {2: "rows", 3: "cols"}})
        return
    x = torch.zeros(1, 3, 256, 512)
    bank = torch.randn(DIM, 7)
    torch.onnx.export(net, (x, bank, (bank * bank).sum(0)), a.out, opset_version=17,
                      input_names=["input", "bank_t", "bank_sqnorm"], output_names=["distance", "features"],
                      dynamic_axes={"input": {2: "H", 3: "W"}, "bank_t": {1: "N"}, "bank_sqnorm": {0: "N"},
                                    "distance": {1: "rows", 2: "cols"}, "features": {2: "rows", 3: "cols"}},
                      do_constant_folding=True)
    m = onnx.load(a.out)
    # the crop after the mirrored border hides the shapes from the exporter: state them
    for out, dims in zip(m.graph.output, ([1, "rows", "cols"], [1, DIM, "rows", "cols"])):
        shape = out.type.tensor_type.shape
        del shape.dim[:]
        for d in dims:
            if isinstance(d, int):
                shape.dim.add().dim_value = d
            else:
                shape.dim.add().dim_param = d
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    # the search in the graph against brute force (the Go tests check what ONNX Runtime makes of it)
    with torch.no_grad():
        x = torch.randn(1, 3, 256, 320)
        f = net.features(x)
        q = f.reshape(DIM, -1).t()
        bank = q[torch.randperm(q.shape[0])[:50]] + 0.01 * torch.randn(50, DIM)
        dist, _ = net(x, bank.t().contiguous(), (bank * bank).sum(1))
        want = torch.cdist(q, bank).min(1).values.reshape(dist.shape)
        assert torch.allclose(dist, want, atol=2e-2), (dist - want).abs().max()
    digest = hashlib.sha256(open(a.out, "rb").read()).hexdigest()
    print(f"{a.out}: {os.path.getsize(a.out)} bytes, sha256 {digest}, cell {CELL}, dim {DIM}")


if __name__ == "__main__":
    main()
