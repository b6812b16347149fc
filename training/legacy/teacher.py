#!/usr/bin/env python3
"""Write a whole-strip EfficientNet checkpoint as a TorchScript teacher for finetune.py --teacher.

  PYTHONPATH=training python3 -m legacy.teacher --ckpt .cache/from-onnx/m310.pt --out .cache/teacher-310.pt

finetune.py imports nothing from legacy/; a traced module carries the network with it. The
module maps an ImageNet-normalised batch [N, 3, H, W] to the raw window logits [N, H/32-7, W/32-7]
(before the checkpoint's calibration), the grid MobileStripNet scores too.
"""
import argparse

import torch

from legacy.train_strip import load_strip_model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="whole-strip checkpoint (train_strip.py or from_onnx.py)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    net, _ = load_strip_model(a.ckpt)
    x = torch.zeros(2, 3, 256, 384)
    with torch.no_grad():
        traced = torch.jit.trace(net.eval(), x)
        wide = torch.randn(1, 3, 256, 640)
        if (traced(wide) - net(wide)).abs().max() > 1e-4:
            raise SystemExit("the traced teacher does not generalise to other strip widths")
    traced.save(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
