#!/usr/bin/env python3
"""PyTorch eager baseline for `steelinspect bench --compare-python`.

Runs the seed's architecture (training/legacy/train.py: EfficientNet-B0 + 256-128-1
head, sigmoid) in PyTorch eager mode on the CPU over the same strips and the
same patches (256x256, stride 128, last patch flush with the edge) that the Go
engine scores, with the same preprocessing, and prints one JSON line with the
per-strip times. Weights come from --checkpoint when given; without one the
network is randomly initialised, which costs exactly the same time.

Uses Debian's python3-torch: /usr/bin/python3 scripts/bench_torch.py IMAGE...
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "training"))
from dataset import tile_positions  # noqa: E402
from legacy.train import WithSigmoid, build_model, normalize  # noqa: E402


def patches_of(path):
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    h, w = img.shape
    pos = tile_positions(w, h)
    batch = np.stack([img[y:y + 256, x:x + 256] for y, x in pos])[:, None]
    return torch.from_numpy(np.ascontiguousarray(batch))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--checkpoint")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = build_model()
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location="cpu")
        model.load_state_dict(state.get("model", state))
    model = WithSigmoid(model).eval()
    inputs = [patches_of(p) for p in args.images]
    times = []
    with torch.no_grad():
        model(normalize(inputs[0]))  # warm-up
        for _ in range(args.repeat):
            for x in inputs:
                t0 = time.perf_counter()
                model(normalize(x))
                times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({
        "torch": torch.__version__, "threads": args.threads, "strips": len(times),
        "patches_per_strip": int(inputs[0].shape[0]),
        "ms_median": statistics.median(times), "ms_p95": times[max(0, math.ceil(0.95 * len(times)) - 1)],
    }, allow_nan=False))


if __name__ == "__main__":
    main()
