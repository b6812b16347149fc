#!/usr/bin/env python3
"""Fold a model's three identical grey input channels into one (issue 29: speed).

  /usr/bin/python3 training/gray_stem.py --model .cache/models/M.onnx --out .cache/models/M-gray.onnx

Strips are grey. An ImageNet-started model still takes three channels, which the engine fills
with the same grey values, normalised with each channel's mean and standard deviation: three
planes to fill, quantise and convolve where one carries the information. With one input plane
x' = (g * scale - m) / s (m, s: the averages of the three channels' values), every channel is
x_c = (x' * s + m - m_c) / s_c, so the stem convolution of weights W_c and bias b equals one of
weights sum_c W_c * s / s_c and bias b + sum_c sum(W_c) * (m - m_c) / s_c. Exact away from the
border; on the stem's one-pixel zero padding the three channels saw 0 where the folded model sees
x' = 0, i.e. (m - m_c) / s_c (within 0.2 of 0 for ImageNet's values).

Works on an fp32 graph (before training/quantize.py) whose input feeds only convolutions; the
manifest beside it gets input.channels 1, the new preprocessing, file and sha256.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from common import write_json
from quantize import sha256


def fold(model, pre):
    """The graph with its input's convolutions folded to one channel -> the new preprocessing."""
    g = model.graph
    name = g.input[0].name
    users = [n for n in g.node if name in n.input]
    if not users or any(n.op_type != "Conv" or n.input[0] != name for n in users):
        raise SystemExit(f"the input {name!r} feeds {sorted({n.op_type for n in users})}: only convolutions can fold")
    mean, std = np.array(pre["mean"], np.float64), np.array(pre["std"], np.float64)
    if len(mean) != 3:
        raise SystemExit(f"the model takes {len(mean)} channel(s), not 3")
    m, s = float(mean.mean()), float(std.mean())
    inits = {i.name: i for i in g.initializer}
    for conv in users:
        if any(a.name == "group" and a.i != 1 for a in conv.attribute):
            raise SystemExit(f"{conv.name}: a grouped convolution on the input does not fold")
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        if w.shape[1] != 3:
            raise SystemExit(f"{conv.name}: weights {w.shape}, want 3 input channels")
        b = (numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2
             else np.zeros(w.shape[0]))
        w1 = (w * (s / std)[None, :, None, None]).sum(axis=1, keepdims=True)
        b1 = b + (w.sum(axis=(2, 3)) * ((m - mean) / std)[None, :]).sum(axis=1)
        for src, val in ((conv.input[1], w1), (conv.input[2] if len(conv.input) > 2 else None, b1)):
            if src is None:
                bname = conv.name + "_gray_bias"
                g.initializer.append(numpy_helper.from_array(val.astype(np.float32), bname))
                conv.input.append(bname)
                continue
            if sum(src in n.input for n in g.node) > 1:
                raise SystemExit(f"{conv.name}: {src} is shared with another node")
            inits[src].CopyFrom(numpy_helper.from_array(val.astype(np.float32), src))
    g.input[0].type.tensor_type.shape.dim[1].dim_value = 1
    onnx.checker.check_model(model)
    return {**pre, "mean": [m], "std": [s]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="fp32 .onnx with its .manifest.json beside it")
    ap.add_argument("--out", required=True, help="the folded .onnx (its manifest is written beside it)")
    a = ap.parse_args(argv)
    model = onnx.load(a.model)
    src = os.path.splitext(a.model)[0] + ".manifest.json"
    with open(src) as f:
        man = json.load(f)
    if man["input"].get("channels") != 3:
        raise SystemExit(f"{src}: input.channels is {man['input'].get('channels')}, not 3")
    man["preprocessing"] = fold(model, man["preprocessing"])
    man["input"]["channels"] = 1
    onnx.save(model, a.out)
    man["sha256"] = sha256(a.out)
    man["file"] = os.path.basename(a.out)
    prov = man.setdefault("provenance", {})
    prov["description"] = (prov.get("description", "").rstrip(". ") + "; input: one grey channel, the three identical "
                           "ImageNet-normalised channels folded into the stem convolution (training/gray_stem.py)").lstrip("; ")
    write_json(os.path.splitext(a.out)[0] + ".manifest.json", man)
    print(f"wrote {a.out}: one input channel, mean {man['preprocessing']['mean'][0]:.4f} "
          f"std {man['preprocessing']['std'][0]:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
