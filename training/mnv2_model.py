"""Whole-strip MobileNetV2 defect model (issue 14): ImageNet start, real steel.

The backbone is torchvision's MobileNetV2 (ReLU6, no squeeze-excitation: ONNX Runtime fuses
every activation into its convolution and the network quantises cleanly). It runs once over the
whole strip; its /32 feature map (1280 channels) is averaged over every 8x8-cell window at a
stride of one cell (common.WIN, the retired EfficientNet's legacy/strip_model.StripNet did the
same), and a small 1280-128-1 head scores each window (with linear_top, the last layer's values
before its ReLU6). The averaged window features are a second output: the engine measures from
them how familiar a strip is to the model (the statistics are fitted by `steelinspect familiarity`).

Outputs of the exported graph (export_onnx):
  probability [1, H/32-7, W/32-7]        sigmoid(a*logit+b), the calibrated defect probability
  features    [1, 1280, H/32-7, W/32-7]  window-averaged backbone features (familiarity)
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from common import WIN

FEATURES = 1280
PRETRAINED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "pretrained",
                          "mobilenet_v2_imagenet_from_coral_tflite_quant.pth")


class MobileStripNet(nn.Module):
    """MobileNetV2 backbone once over the strip, window-pooled features, per-window head."""

    def __init__(self, pretrained=None, linear_top=False):
        super().__init__()
        m = torchvision.models.mobilenet_v2()
        if pretrained:
            sd = torch.load(pretrained, map_location="cpu")
            m.load_state_dict(sd)
        self.features = m.features
        self.linear_top = linear_top
        if linear_top:
            # the last 320 -> 1280 layer without its ReLU6. Fine-tuned with it, 4.0.0's backbone learnt to
            # give clean steel the zero vector: below zero a ReLU6 passes no gradient, so a faint defect
            # that lands there can never be learnt (training/NOTEBOOK.md, session 9)
            self.features[-1][-1] = nn.Identity()
        self.head = nn.Sequential(
            nn.Conv2d(FEATURES, 128, 1), nn.ReLU(inplace=True), nn.Dropout(0.2),
            nn.Conv2d(128, 1, 1),
        )
        # calibration a*logit+b, fitted on validation after training (identity until then)
        self.register_buffer("cal_a", torch.tensor(1.0))
        self.register_buffer("cal_b", torch.tensor(0.0))

    def pooled(self, x):
        return F.avg_pool2d(self.features(x), WIN, stride=1)

    def forward(self, x):
        """-> raw (uncalibrated) window logits [N, rows, cols]."""
        return self.head(self.pooled(x))[:, 0]

    def calibrated_logits(self, x):
        return self.forward(x) * self.cal_a + self.cal_b


class Exported(nn.Module):
    """The graph the engine runs: calibrated probability map and window features."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        f = self.net.pooled(x)
        logit = self.net.head(f)[:, 0] * self.net.cal_a + self.net.cal_b
        return torch.sigmoid(logit), f


def export_onnx(net, path):
    import onnx
    net = net.float().eval()
    dummy = torch.zeros(1, 3, 256, 512)
    axes = {"input": {2: "H", 3: "W"}, "probability": {1: "rows", 2: "cols"}, "features": {2: "rows", 3: "cols"}}
    torch.onnx.export(Exported(net).eval(), dummy, path, opset_version=17, input_names=["input"],
                      output_names=["probability", "features"], dynamic_axes=axes, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m
