#!/usr/bin/env python3
"""Static INT8 post-training quantisation of an exported model (QDQ format).

  python3 training/quantize.py --model models/steel-effnetb0-strip.onnx \
      --calib .cache/synth/train --count 64 --out models/steel-effnetb0-strip-int8.onnx

What it does (the QDQ layout ONNX Runtime fuses into its integer kernels):
  * weights of every backbone Conv: int8, symmetric, per output channel;
    biases int32 at scale input_scale * weight_scale;
  * every backbone activation that feeds a Conv, Mul, Add, Sigmoid or
    GlobalAveragePool: uint8, asymmetric, one QuantizeLinear/DequantizeLinear
    pair per tensor, its range calibrated on --count strips of --calib
    (training strips, never the held-out set) through ONNX Runtime itself
    (tools/actrange, run with `go run`);
  * the head (window pooling, 256-128-1, sigmoid) stays float.
The manifest is copied from the float model's with the new file, hash, name and
provenance; held-out metrics are then measured through the Go engine
(`steelinspect eval`) and written into it.

Calibration ranges: --range percentile (default: 0.01 % / 99.99 % of the values seen,
which keeps rare outliers from wasting the 256 levels) or minmax.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from dataset import StripSet, tile_positions, PATCH
from common import dumps, rounded, write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANTIZABLE = {"Conv", "Mul", "Add", "Sigmoid", "GlobalAveragePool"}


def preprocess(gray, pre):
    """uint8 [H,W] -> float32 [3,H,W] with the manifest's scaling."""
    x = gray.astype(np.float32)
    return np.stack([(x * pre["scale"] - m) / s for m, s in zip(pre["mean"], pre["std"])]).astype(np.float32)


def calibration_inputs(manifest, data, count, seed, outdir):
    """Writes one raw float32 file per strip (the whole strip, or its 12 tiles) -> (files, shape)."""
    ds = StripSet(data)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(ds), size=min(count, len(ds)), replace=False)
    files, shape = [], None
    for k, i in enumerate(idx):
        img = ds.images[i]
        if manifest.get("variant") == "whole-strip":
            x = preprocess(img, manifest["preprocessing"])[None]
        else:
            x = np.stack([preprocess(img[y:y + PATCH, xx:xx + PATCH], manifest["preprocessing"])
                          for y, xx in tile_positions(img.shape[1], img.shape[0])])
        if shape is None:
            shape = x.shape
        elif x.shape != shape:
            continue
        p = os.path.join(outdir, f"{k:04d}.f32")
        x.astype("<f4").tofile(p)
        files.append(p)
    return files, shape


KEEP_FLOAT = r"/avgpool/|/fc1/|/fc2/|/activation/|/scale_activation/"


def in_scope(node, scope, keep_float=KEEP_FLOAT):
    return scope in node.name and not (keep_float and re.search(keep_float, node.name))


def targets(model, scope, keep_float=KEEP_FLOAT):
    """Activation tensors (not initializers) consumed by quantizable nodes in scope."""
    inits = {i.name for i in model.graph.initializer}
    consts = {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    out = []
    for n in model.graph.node:
        if n.op_type in QUANTIZABLE and in_scope(n, scope, keep_float):
            for i, t in enumerate(n.input):
                if n.op_type == "Conv" and i > 0:
                    continue  # weight and bias are handled separately
                if t and t not in inits and t not in consts and t not in out:
                    out.append(t)
    return out


def fuse_clips(model, names):
    """Folds each Clip (ReLU6) that follows a Conv into that Conv's quantisation, as ONNX
    Runtime's own quantiser does: the Conv writes the Clip's output tensor directly, whose
    calibrated range lies within the clip bounds, so QuantizeLinear (zero point at 0,
    saturating at the top of the range) performs the clamp. Only Clips whose output is
    quantised (in names) and whose Conv output has no other reader. -> the folded Clips'
    output tensors, whose ranges clipped_ranges then pins at 0."""
    g = model.graph
    readers = {}
    for n in g.node:
        for t in n.input:
            readers[t] = readers.get(t, 0) + 1
    producer = {o: n for n in g.node for o in n.output}
    drop = []
    for n in g.node:
        if n.op_type != "Clip" or n.output[0] not in names:
            continue
        src = producer.get(n.input[0])
        if src is None or src.op_type != "Conv" or readers.get(n.input[0], 0) != 1:
            continue
        src.output[0] = n.output[0]
        drop.append(n)
    for n in drop:
        g.node.remove(n)
    return [n.output[0] for n in drop]


def clipped_ranges(ranges):
    """Ranges of tensors that are Clip(0, 6) outputs: the lower end pinned at 0 (so the
    quantised zero is exact and negatives clamp to it)."""
    return {t: {**r, "p_lo": max(0.0, r["p_lo"]), "min": max(0.0, r["min"])} for t, r in ranges.items()}


def measure(model_path, names, files, shape, workdir, go):
    aug = onnx.load(model_path)
    existing = {o.name for o in aug.graph.output}
    for t in names:
        if t not in existing:
            aug.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    aug_path = os.path.join(workdir, "aug.onnx")
    onnx.save(aug, aug_path)
    names_path = os.path.join(workdir, "names.txt")
    with open(names_path, "w") as f:
        f.write("\n".join(names) + "\n")
    ranges_path = os.path.join(workdir, "ranges.json")
    cmd = [go, "run", "./tools/actrange", "--model", aug_path, "--shape", ",".join(map(str, shape)),
           "--outputs", names_path, "--out", ranges_path] + files
    subprocess.run(cmd, cwd=ROOT, check=True)
    with open(ranges_path) as f:
        return json.load(f)


def uint8_params(lo, hi):
    lo, hi = min(0.0, lo), max(0.0, hi)
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize(model, ranges, scope, use_percentile=True, keep_float=KEEP_FLOAT):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_inits = []
    act = {}  # tensor -> (dq name, scale)
    for t, r in ranges.items():
        lo, hi = (r["p_lo"], r["p_hi"]) if use_percentile else (r["min"], r["max"])
        s, zp = uint8_params(lo, hi)
        base = t.replace("/", "_").strip("_")
        new_inits += [numpy_helper.from_array(np.array(s, np.float32), base + "_scale"),
                      numpy_helper.from_array(np.array(zp, np.uint8), base + "_zp")]
        act[t] = (base + "_dq", float(s), base)

    def qdq_nodes(t):
        dq, _s, base = act[t]
        return [helper.make_node("QuantizeLinear", [t, base + "_scale", base + "_zp"], [base + "_q"], name=base + "_Q"),
                helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zp"], [dq], name=base + "_DQ")]

    dq_source = {dq: t for t, (dq, _s, _b) in act.items()}
    nodes = []
    for t in g.input:
        if t.name in act:
            nodes += qdq_nodes(t.name)
    # a Conv fuses with its QuantizeLinear only when that is the output's sole reader, so
    # every other reader of a quantised Conv output (e.g. a float squeeze-excitation
    # branch after a folded ReLU6) takes the dequantised tensor too
    conv_out = {o for n in g.node if n.op_type == "Conv" for o in n.output}
    n_conv = 0
    for n in g.node:
        quantized_node = n.op_type in QUANTIZABLE and in_scope(n, scope, keep_float)
        for i, t in enumerate(n.input):
            if t in act and (quantized_node or t in conv_out) and not (n.op_type == "Conv" and i > 0):
                n.input[i] = act[t][0]
        if quantized_node:
            if n.op_type == "Conv" and n.input[1] in inits and n.input[0] in dq_source:
                s_in = act[dq_source[n.input[0]]][1]
                w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float64)
                ws = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(1) / 127.0, 1e-12)
                wq = np.clip(np.round(w / ws.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
                wn = n.input[1] + "_q"
                new_inits += [numpy_helper.from_array(wq, wn),
                              numpy_helper.from_array(ws.astype(np.float32), wn + "_scale"),
                              numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wn + "_zp")]
                nodes.append(helper.make_node("DequantizeLinear", [wn, wn + "_scale", wn + "_zp"], [wn + "_dq"],
                                              axis=0, name=wn + "_DQ"))
                n.input[1] = wn + "_dq"
                if len(n.input) > 2 and n.input[2] in inits:
                    b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float64)
                    bs = (s_in * ws).astype(np.float32)
                    bq = np.clip(np.round(b / bs), -2**31, 2**31 - 1).astype(np.int32)
                    bn = n.input[2] + "_q"
                    new_inits += [numpy_helper.from_array(bq, bn),
                                  numpy_helper.from_array(bs, bn + "_scale"),
                                  numpy_helper.from_array(np.zeros(w.shape[0], np.int32), bn + "_zp")]
                    nodes.append(helper.make_node("DequantizeLinear", [bn, bn + "_scale", bn + "_zp"], [bn + "_dq"],
                                                  axis=0, name=bn + "_DQ"))
                    n.input[2] = bn + "_dq"
                n_conv += 1
        nodes.append(n)
        for o in n.output:
            if o in act:
                nodes += qdq_nodes(o)
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    drop_unused_initializers(g)
    fold_float_conv_weights(model)
    onnx.checker.check_model(model)
    return n_conv


def fold_float_conv_weights(model):
    """Convolutions that run in float (their output is not quantised: the last layer a --linear-top
    head reads before its ReLU6, and the head itself) get their weights and bias as float constants,
    the very values their DequantizeLinear gave: ONNX Runtime fuses DequantizeLinear into a
    convolution only when its output is quantised too, and otherwise dequantised the weights at
    every run (0.33 ms a strip for the 320 -> 1280 layer). -> how many convolutions were folded."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    folded, drop = 0, set()
    for n in g.node:
        if n.op_type != "Conv" or any(r.op_type == "QuantizeLinear" for r in readers.get(n.output[0], [])):
            continue
        for k in range(1, len(n.input)):
            dq = producer.get(n.input[k])
            if dq is None or dq.op_type != "DequantizeLinear" or not all(i in inits for i in dq.input):
                continue
            if any(r is not n for r in readers[dq.output[0]]):
                continue
            q, scale = (numpy_helper.to_array(inits[i]) for i in dq.input[:2])
            zp = numpy_helper.to_array(inits[dq.input[2]]) if len(dq.input) > 2 else np.zeros_like(scale)
            axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            if scale.ndim:
                shape[axis] = -1
            w = ((q.astype(np.float32) - zp.astype(np.float32).reshape(shape)) * scale.astype(np.float32).reshape(shape))
            g.initializer.append(numpy_helper.from_array(w.astype(np.float32), dq.output[0]))
            drop.add(id(dq))
            folded += k == 1
    keep = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(keep)
    drop_unused_initializers(g)
    return folded


def drop_unused_initializers(g):
    """Keeps, in their order, only the initializers some node of g reads."""
    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="float ONNX model with its .manifest.json beside it")
    ap.add_argument("--calib", required=True, help="Severstal-layout folder of calibration strips (training data)")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--range", choices=("percentile", "minmax"), default="percentile")
    ap.add_argument("--scope", default="/features/", help="quantise nodes whose name contains this")
    ap.add_argument("--keep-float", default=KEEP_FLOAT,
                    help="regular expression of node names left in float (default: the squeeze-excitation branches, "
                         "tiny tensors where 8 bits cost accuracy and save no time)")
    ap.add_argument("--ops", default=",".join(sorted(QUANTIZABLE)),
                    help="operator types whose activations are quantised")
    ap.add_argument("--heldout", default="testdata/heldout", help="held-out folder for the manifest's metrics")
    ap.add_argument("--heldout-wide", default="testdata/heldout-wide",
                    help="second held-out folder, measured when the float model's manifest has metrics_wide")
    ap.add_argument("--calib-desc", default=None,
                    help="what the --calib folder holds, for the manifest's provenance (default: its path)")
    ap.add_argument("--go", default="go")
    ap.add_argument("--ranges", help="reuse calibration ranges saved by an earlier run (JSON) instead of measuring")
    ap.add_argument("--save-ranges", help="save the measured calibration ranges (JSON) here")
    a = ap.parse_args(argv)

    QUANTIZABLE.clear()
    QUANTIZABLE.update(a.ops.split(","))
    with open(os.path.splitext(a.model)[0] + ".manifest.json") as f:
        manifest = json.load(f)
    model = onnx.load(a.model)
    names = targets(model, a.scope, a.keep_float)
    if a.ranges:
        with open(a.ranges) as f:
            ranges, n_calib = json.load(f), a.count
        missing = [t for t in names if t not in ranges]
        if missing:
            raise SystemExit(f"{a.ranges} lacks {len(missing)} tensors, e.g. {missing[0]}")
        ranges = {t: ranges[t] for t in names}
    else:
        with tempfile.TemporaryDirectory() as work:
            files, shape = calibration_inputs(manifest, a.calib, a.count, a.seed, work)
            n_calib = len(files)
            print(f"calibrating {len(names)} tensors on {n_calib} strips {shape}", file=sys.stderr)
            ranges = measure(a.model, names, files, shape, work, a.go)
    if a.save_ranges:
        write_json(a.save_ranges, ranges, indent=1)
    folded = fuse_clips(model, set(names))
    ranges = {**ranges, **clipped_ranges({t: ranges[t] for t in folded})}
    if folded:
        print(f"folded {len(folded)} ReLU6 (Clip) nodes into their convolutions' quantisation", file=sys.stderr)
    n_conv = quantize(model, ranges, a.scope, a.range == "percentile", a.keep_float)
    onnx.save(model, a.out)
    print(f"wrote {a.out}: {n_conv} convolutions and {len(ranges)} activations in INT8", file=sys.stderr)

    m = dict(manifest)
    m["name"] = manifest["name"] + "-int8"
    m["file"] = os.path.basename(a.out)
    m["sha256"] = sha256(a.out)
    prov = dict(manifest.get("provenance", {}))
    prov["training"] = (prov.get("training", "") + f"; INT8 static post-training quantisation (QDQ) of "
                        f"{os.path.basename(a.model)} (sha256 {manifest['sha256'][:12]}) by training/quantize.py: "
                        f"{n_conv} backbone convolutions with per-channel int8 weights, {len(ranges)} activations uint8 "
                        f"calibrated ({a.range}; left in float: nodes matching {a.keep_float!r}) on {n_calib} strips of {a.calib} (seed {a.seed}"
                        + (f": {a.calib_desc}" if a.calib_desc else "") + "); the head after the window pooling in float")
    prov.pop("metrics", None)
    prov.pop("metrics_wide", None)
    m["provenance"] = prov
    mpath = os.path.splitext(a.out)[0] + ".manifest.json"
    write_json(mpath, m)
    if a.heldout:
        add_go_metrics(mpath, a.heldout, a.go)
    if a.heldout_wide and "metrics_wide" in manifest.get("provenance", {}):
        add_go_metrics(mpath, a.heldout_wide, a.go, field="metrics_wide")


def add_go_metrics(mpath, heldout, go, field="metrics"):
    """Held-out metrics through the Go engine (the float pipeline's figures cannot apply)."""
    out = subprocess.run([go, "run", ".", "eval", "--model", mpath, "--images", os.path.join(heldout, "train_images"),
                          "--labels", os.path.join(heldout, "train.csv"), "--format", "json"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rep = json.loads(out)
    with open(mpath) as f:
        m = json.load(f)
    m["provenance"][field] = go_metrics(rep)
    if field == "metrics":
        m["provenance"]["training"] += "; held-out metrics measured with steelinspect eval (Go engine, ONNX Runtime)"
    write_json(mpath, m)
    print(field, dumps(m["provenance"][field]), file=sys.stderr)


def go_metrics(rep):
    """steelinspect eval's JSON report -> the manifest's metric names (as export.py writes them)."""
    st, pa = rep["strip"], rep["patch"]
    out = {
        "strip_missed": st["missed"],
        "strip_false_reject": st["false_alarms"],
        "review_rate": round(st["review_rate"], 6),
        "patch_recall_at_pass": round(pa["recall_at_pass"], 6),
        "patch_precision_at_pass": round(pa["precision_at_pass"], 6),
        "roc_auc": rounded(pa["roc_auc"]),
        "confusion_at_pass": pa["confusion_at_pass"],
    }
    if pa.get("roc_auc") is None:
        out["roc_auc_why"] = pa.get("auc_why") or "not computed by steelinspect eval"
    return out


if __name__ == "__main__":
    main()
