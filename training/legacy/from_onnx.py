#!/usr/bin/env python3
"""Rebuild a trainable whole-strip checkpoint from an exported fp32 ONNX model.

The training checkpoints live in git-ignored caches that do not survive a new machine;
the exported ONNX model in models/ does. This turns it back into a train_strip.py
checkpoint so a later run can fine-tune from the shipped weights:

  PYTHONPATH=training python3 -m legacy.from_onnx --onnx models/steel-effnetb0-relu6-strip.onnx \
      --data .cache/synth/val --out .cache/from-onnx/shipped.pt

The export folded every BatchNorm into its convolution (W' = W*g/s, b' = ...). BatchNorm is
re-inflated so the network trains as before: each convolution keeps W' (no bias) and its
BatchNorm gets running mean mu and variance var of W'x measured on --data strips,
gamma = sqrt(var + eps) and beta = mu + b'. In eval mode that is exactly W'x + b' (the
ONNX graph); in train mode the batch statistics stand in for mu and var, so the first
training steps see nearly the same network instead of one whose activations are
re-normalised to unit variance. The affine logit calibration baked into the graph
(a * logit + b) is kept in the checkpoint's "calib" (export.py applies it when no new
calibration is fitted) and left out of the trainable network.
"""
import argparse
import os
import sys

import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from dataset import StripSet
from legacy.strip_model import StripNet
from legacy.train import ACTIVATIONS, build_model, strip_tensor


def conv_bn_pairs(net):
    """Every Conv2d of net in forward order, each with the BatchNorm2d that follows it
    in its Sequential (torchvision's Conv2dNormActivation) or None."""
    pairs = []

    def walk(mod):
        kids = list(mod.children())
        for i, k in enumerate(kids):
            if isinstance(k, nn.Conv2d):
                bn = kids[i + 1] if i + 1 < len(kids) and isinstance(kids[i + 1], nn.BatchNorm2d) else None
                pairs.append((k, bn))
            else:
                walk(k)

    walk(net)
    return pairs


def graph_constants(model):
    """name -> numpy array of every initializer, Constant node output and Identity of one
    (the exporter deduplicates equal parameters, e.g. all-zero biases, into Identity nodes)."""
    vals = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            for attr in n.attribute:
                if attr.name == "value":
                    vals[n.output[0]] = numpy_helper.to_array(attr.t)
        elif n.op_type == "Identity" and n.input[0] in vals:
            vals[n.output[0]] = vals[n.input[0]]
    return vals


def scalar(vals, name):
    return float(vals[name].reshape(-1)[0]) if name in vals else None


def load_folded(net, model):
    """Copy the ONNX Conv weights into net (graph order = forward order); folded
    BatchNorms are set to identity plus the folded bias for now."""
    vals = graph_constants(model)
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    pairs = conv_bn_pairs(net)
    if len(convs) != len(pairs):
        raise SystemExit(f"ONNX graph has {len(convs)} convolutions, the network {len(pairs)}: not this architecture")
    with torch.no_grad():
        for node, (conv, bn) in zip(convs, pairs):
            w = torch.from_numpy(vals[node.input[1]].copy())
            b = torch.from_numpy(vals[node.input[2]].copy()) if len(node.input) > 2 else torch.zeros(w.shape[0])
            if w.shape != conv.weight.shape:
                raise SystemExit(f"{node.name}: weight {tuple(w.shape)}, network wants {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            if bn is None:
                conv.bias.copy_(b)
                continue
            bn.weight.fill_(1.0)
            bn.bias.copy_(b)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
    return scalar(vals, "m.a"), scalar(vals, "m.b")


@torch.no_grad()
def reinflate_batchnorm(net, strips):
    """Measure each folded convolution's output statistics (eval mode: the graph's exact
    activations) and give its BatchNorm those as running stats, gamma and beta so that
    eval output is unchanged."""
    stats = {}
    hooks = []
    for _conv, bn in conv_bn_pairs(net):
        if bn is None:
            continue

        def hook(mod, inp, _out):
            x = inp[0].double()
            s = stats.setdefault(mod, [0.0, 0.0, 0])
            s[0] = s[0] + x.sum(dim=(0, 2, 3))
            s[1] = s[1] + (x * x).sum(dim=(0, 2, 3))
            s[2] += x.numel() // x.shape[1]

        hooks.append(bn.register_forward_hook(hook))
    net.eval()
    for img in strips:
        net(strip_tensor(img))
    for h in hooks:
        h.remove()
    for bn, (s1, s2, n) in stats.items():
        mu = s1 / n
        var = (s2 / n - mu * mu).clamp_min(1e-6)
        bias = bn.bias.double().clone()
        bn.running_mean.copy_(mu.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.copy_((mu + bias).float())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="fp32 whole-strip model exported by export.py")
    ap.add_argument("--data", required=True, help="Severstal-layout folder whose strips measure the BatchNorm statistics")
    ap.add_argument("--count", type=int, default=24, help="strips of --data to measure on")
    ap.add_argument("--act", choices=ACTIVATIONS, default="relu6")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = onnx.load(a.onnx)
    net = StripNet(build_model(a.act)).eval()
    ca, cb = load_folded(net, model)
    ds = StripSet(a.data, a.count)
    before = [net(strip_tensor(im)) for im in ds.images[:2]]
    reinflate_batchnorm(net, ds.images)
    after = [net(strip_tensor(im)) for im in ds.images[:2]]
    drift = max(float((x - y).abs().max()) for x, y in zip(before, after))
    print(f"{a.onnx}: {len(conv_bn_pairs(net))} convolutions, BatchNorm re-inflated on {len(ds)} strips; "
          f"largest logit change in eval mode {drift:.2e}; calibration a={ca} b={cb}", file=sys.stderr)
    if drift > 1e-2:
        raise SystemExit(f"re-inflated network differs from the folded one by {drift}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    ck = {"model": net.state_dict(), "variant": "whole-strip", "act": a.act, "step": 0, "strips_seen": 0,
          "init": os.path.basename(a.onnx)}
    if ca is not None and cb is not None:
        ck["calib"] = {"a": ca, "b": cb}
    torch.save(ck, a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
