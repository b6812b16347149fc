"""Give a whole-strip model a validated-domain check (issue 29): the model then says so when a
strip is not the steel it was validated on, instead of guessing.

Why. A model's held-out figures hold for strips like its training strips. The synthetic-only
EfficientNet (3.1.0) decides synthetic strips well (0 missed, 0 clean rejected, 5 % review) and
rejects nearly every real Severstal strip, clean ones included. Its own familiarity statistics do
not see real steel as strange: it learned to ignore exactly the texture that sets real steel
apart (mean Mahalanobis score of real strips 0.83-2.97, synthetic held out 0.43-2.06), and a
linear probe on its features does not separate them either. A general-purpose backbone does:
ImageNet MobileNetV2's mid-level features, their mean and spread over the strip, separate held-out
real Severstal strips from held-out synthetic ones in every fold.

What. A second branch in the model's graph: the strip averaged 4x4 down, ImageNet MobileNetV2
blocks 0-13 (../shared/pretrained, frozen, fp32), and for block 6 (32 channels) and block 13
(96 channels) the mean and the standard deviation of every channel over the band: one vector of
256 values per band, the graph's output `domain`. A logistic regression on those vectors, fitted
here, tells the strips the model was validated on (--validated) from real steel of other lines
(--unlike); its weights and limit go into the model's familiarity file as `domain`, and the
engine (inference/domain.go) sends a strip over the limit to review: "not the steel the model was
validated on".

The limit sits above every --validated-heldout strip (times a margin), so the model still decides
its own kind of strip. The script reports, out of fold, how many --unlike strips the check
catches, grouped so that strips of one source never sit on both sides of a fold.

Usage (the bundled model's exact command is in training/NOTEBOOK.md):
  python3 training/domain_check.py --model models/M.onnx --out models/NEW \
      --validated DIR [DIR ...] --validated-heldout DIR [DIR ...] \
      --unlike NAME=DIR[:N] [NAME=DIR[:N] ...] --version V [--scale 4]
It writes NEW.onnx, NEW.manifest.json and NEW.familiarity.json (the model's own familiarity
statistics are kept; refit them with `steelinspect familiarity`, which keeps the domain check).
"""
import argparse
import copy
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper
from PIL import Image

from common import write_json
from quantize import sha256

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PRETRAINED = os.path.join(HERE, "..", "..", "shared", "pretrained",
                          "mobilenet_v2_imagenet_from_coral_tflite_quant.pth")
PATCH = 256
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


class DomainBranch(nn.Module):
    """ImageNet MobileNetV2 to the last of `blocks` on the band averaged scale x scale down; the
    mean and standard deviation over the band of every channel of each of `blocks`: [1, 2 x their
    channels] (blocks 6 and 13: 32 + 96 channels, 256 values), means first, in block order."""

    def __init__(self, pretrained, scale, blocks=(6, 13)):
        super().__init__()
        m = torchvision.models.mobilenet_v2()
        m.load_state_dict(torch.load(pretrained, map_location="cpu"))
        self.blocks, self.scale = tuple(sorted(blocks)), scale
        self.trunk = m.features[:self.blocks[-1] + 1]

    @staticmethod
    def stats(f):
        mean = f.mean(dim=(2, 3))
        var = (f * f).mean(dim=(2, 3)) - mean * mean
        return mean, torch.sqrt(torch.clamp(var, min=0.0) + 1e-12)

    def taps(self, x):
        """The outputs of `blocks` for an input already at the branch's scale."""
        out = []
        for k, blk in enumerate(self.trunk):
            x = blk(x)
            if k in self.blocks:
                out.append(x)
        return out

    def forward(self, x):
        if self.scale > 1:
            x = F.avg_pool2d(x, self.scale)
        return BlockStats()(*self.taps(x))


class BlockStats(nn.Module):
    """The domain vector of block outputs: every channel's mean over the band, then every
    channel's standard deviation, block by block. With --shared-trunk this is all the check
    adds to a model whose first blocks are ImageNet MobileNetV2's, frozen (finetune.py --freeze)."""

    def forward(self, *taps):
        pairs = [DomainBranch.stats(t) for t in taps]
        return torch.cat([m for m, _ in pairs] + [s for _, s in pairs], 1)


def image_files(d):
    out = []
    for p in sorted(glob.glob(os.path.join(d, "**", "*"), recursive=True)):
        if p.lower().endswith(IMAGE_EXT) and "/." not in p and os.path.isfile(p):
            out.append(p)
    return out


# Photometric variants a strip is also fitted as (gain, offset, gamma, mirrored): brightness,
# contrast and lighting are nuisances, never what tells one steel from another (some real
# Severstal copies were brightened by the repository they came from).
VARIANTS = [(1.0, 0.0, 1.0, False), (1.0, 0.0, 1.0, True), (1.35, 0.0, 1.0, False), (0.7, 0.0, 1.0, True),
            (1.0, 0.12, 0.8, False), (0.85, -0.05, 1.3, True), (1.2, -0.1, 1.0, False), (0.6, 0.1, 1.0, False)]


def load_gray(path):
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0


def variant(g, v):
    gain, offset, gamma, mirror = v
    out = np.clip(np.power(g, gamma) * gain + offset, 0.0, 1.0)
    return out[:, ::-1].copy() if mirror else out


def bands(g):
    """The engine's bands of one grey image (0-1), ImageNet-normalised: PATCH rows high (the image
    padded by repeating its edge when smaller, as the engine does), every PATCH/2 rows, the last
    flush."""
    h, w = g.shape
    g = np.pad(g, ((0, max(0, PATCH - h)), (0, max(0, PATCH - w))), mode="edge")
    h = g.shape[0]
    ys = list(range(0, h - PATCH + 1, PATCH // 2))
    if ys[-1] != h - PATCH:
        ys.append(h - PATCH)
    out = []
    for y in ys:
        b = np.stack([(g[y:y + PATCH] - MEAN[c]) / STD[c] for c in range(3)])
        out.append(torch.from_numpy(b[None].astype(np.float32)))
    return out


def features(branch, paths, variants=1, cache=None):
    """Rows of image-level features: for each image, its first `variants` photometric variants
    (one count for all or one per image; one row each, its bands' vectors averaged, bands being
    the same width), with the index of the image each row comes from and of its variant. With a
    cache folder, rows computed once for the same images, variants and branch are read back."""
    counts = variants if isinstance(variants, (list, np.ndarray)) else [variants] * len(paths)
    path = None
    if cache:
        key = json.dumps([[os.path.abspath(p) for p in paths], [int(c) for c in counts], branch.scale,
                          list(branch.blocks)])
        path = os.path.join(cache, hashlib.sha256(key.encode()).hexdigest()[:20] + ".npz")
        if os.path.exists(path):
            z = np.load(path)
            return z["rows"], z["origin"], z["which"]
    rows, origin, which = [], [], []
    with torch.no_grad():
        for i, p in enumerate(paths):
            g = load_gray(p)
            for k, v in enumerate(VARIANTS[:counts[i]]):
                rows.append(torch.stack([branch(b)[0] for b in bands(variant(g, v))]).mean(0).numpy())
                origin.append(i)
                which.append(k)
            if (i + 1) % 200 == 0:
                print(f"  {i + 1} of {len(paths)}", flush=True)
    out = np.stack(rows).astype(np.float64), np.array(origin), np.array(which)
    if path:
        os.makedirs(cache, exist_ok=True)
        np.savez(path + ".tmp.npz", rows=out[0], origin=out[1], which=out[2])
        os.replace(path + ".tmp.npz", path)
    return out


class Logistic:
    """Balanced, L2-regularised logistic regression on standardised features."""

    def __init__(self, x, y, l2=1e-3):
        self.mean = x.mean(0)
        self.scale = x.std(0) + 1e-3
        z = torch.tensor((x - self.mean) / self.scale)
        t = torch.tensor(y, dtype=torch.float64)
        pos = y.mean()
        wt = torch.tensor(np.where(y > 0, 0.5 / pos, 0.5 / (1 - pos)))
        w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

        def loss():
            opt.zero_grad()
            v = F.binary_cross_entropy_with_logits(z @ w + b, t, weight=wt) + l2 * (w * w).sum()
            v.backward()
            return v
        opt.step(loss)
        self.w, self.b = w.detach().numpy(), float(b.detach())

    def score(self, x):
        return ((x - self.mean) / self.scale) @ self.w + self.b


def group_of(path):
    """Strips of one source image (CR7 crops of one picture) share a group."""
    base = os.path.basename(path)
    if base.startswith("cr7det_"):
        return base.rsplit("_", 1)[0]
    return base


def out_of_fold(xv, xu, groups, folds=5, seed=0, l2=1e-3):
    """Each --unlike row's score from a check fitted without its group (an image's variants and
    the crops of one picture share a group)."""
    keys = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    fold_of = {k: i % folds for i, k in enumerate(keys)}
    f = np.array([fold_of[g] for g in groups])
    scores = np.zeros(len(xu))
    for k in range(folds):
        m = f == k
        c = Logistic(np.concatenate([xv, xu[~m]]), np.r_[np.zeros(len(xv)), np.ones((~m).sum())], l2=l2)
        scores[m] = c.score(xu[m])
    return scores


def export_branch(branch, opset):
    path = "/tmp/domain_branch.onnx"
    x = torch.zeros(1, 3, PATCH, 1600)
    torch.onnx.export(branch, x, path, input_names=["input"], output_names=["domain"],
                      dynamic_axes={"input": {3: "W"}}, opset_version=opset)
    return onnx.load(path)


def merge(model, branch):
    """The model's graph with the branch beside it, on the same input."""
    out = copy.deepcopy(model)
    b = onnx.compose.add_prefix(branch, "domain_branch/")
    rename = {"domain_branch/input": model.graph.input[0].name, "domain_branch/domain": "domain"}
    for n in b.graph.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
        n.output[:] = [rename.get(o, o) for o in n.output]
    out.graph.node.extend(b.graph.node)
    out.graph.initializer.extend(b.graph.initializer)
    dim = branch.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    out.graph.output.append(onnx.helper.make_tensor_value_info("domain", onnx.TensorProto.FLOAT, [1, dim]))
    onnx.checker.check_model(out)
    return out


def graph_value(model, name):
    """An initializer's value, or a DequantizeLinear's of one (per-axis scale on axis 0)."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    if name in inits:
        return inits[name].astype(np.float64)
    dq = next(n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == name)
    q = inits[dq.input[0]].astype(np.float64)
    scale = inits[dq.input[1]].astype(np.float64)
    zero = inits[dq.input[2]].astype(np.float64) if len(dq.input) > 2 else 0.0
    shape = (-1,) + (1,) * (q.ndim - 1) if np.ndim(scale) else ()
    return (q - np.reshape(zero, shape)) * np.reshape(scale, shape)


def require_imagenet_trunk(model, branch):
    """--shared-trunk reads the model's own block outputs, so its first blocks must be the frozen
    ImageNet ones the check is fitted on: the second convolution's weights (block 1's depthwise;
    the stem may have been folded to one grey channel, training/gray_stem.py) must be ImageNet's
    with its BatchNorm folded, within INT8 rounding."""
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    conv, bn = branch.trunk[1].conv[0][0], branch.trunk[1].conv[0][1]
    ref = (conv.weight * (bn.weight / torch.sqrt(bn.running_var + bn.eps)).view(-1, 1, 1, 1)).detach().numpy()
    w = graph_value(model, convs[1].input[1]) if len(convs) > 1 else None
    err = np.abs(w - ref).max() / np.abs(ref).max() if w is not None and w.shape == ref.shape else np.inf
    if err > 0.02:
        raise SystemExit(f"--shared-trunk: the model's first blocks are not ImageNet MobileNetV2's "
                         f"(largest relative difference {err:.3g}); train it with finetune.py --freeze N")


def trunk_tensors(model, blocks):
    """The model's float tensor of each MobileNetV2 block output (finetune.py's export names its
    nodes .../features.K/...): the block's last node's output, or the DequantizeLinear of it in an
    INT8 graph (own_dequantize gives the check a DequantizeLinear of its own there)."""
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out = []
    for k in blocks:
        nodes = [n for n in model.graph.node if f"/features.{k}/" in n.name
                 and n.op_type not in ("QuantizeLinear", "DequantizeLinear")]
        if not nodes:
            raise SystemExit(f"--shared-trunk: the model has no MobileNetV2 block {k}")
        t = nodes[-1].output[0]
        for q in consumers.get(t, []):
            dq = [d for d in consumers.get(q.output[0], []) if d.op_type == "DequantizeLinear"]
            if q.op_type == "QuantizeLinear" and dq:
                t = dq[0].output[0]
        out.append(t)
    return out


def own_dequantize(model, tensor):
    """In an INT8 graph, a DequantizeLinear of the check's own beside the one the next block reads
    (same quantised tensor, scale and zero point), appended to model; its output name, or tensor
    itself in a float graph. Read by the check as well, the scorer's DequantizeLinear was copied by
    ONNX Runtime for every reader (three copies for block 6) and the tap cost 1.5 ms a strip."""
    dq = next((n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == tensor), None)
    if dq is None:
        return tensor
    name = "domain_stats/" + tensor
    model.graph.node.append(onnx.helper.make_node("DequantizeLinear", list(dq.input), [name], name=name + "_node",
                                                  **{a.name: onnx.helper.get_attribute_value(a) for a in dq.attribute}))
    return name


def merge_shared(model, branch, opset):
    """The model's graph with BlockStats on its own block outputs: the check costs a few reductions."""
    out = copy.deepcopy(model)
    names = [own_dequantize(out, t) for t in trunk_tensors(model, branch.blocks)]
    with torch.no_grad():
        taps = branch.taps(torch.zeros(1, 3, PATCH, 512))
    path = "/tmp/domain_stats.onnx"
    inputs = [f"tap{i}" for i in range(len(taps))]
    torch.onnx.export(BlockStats(), tuple(taps), path, input_names=inputs, output_names=["domain"],
                      dynamic_axes={n: {2: "H", 3: "W"} for n in inputs}, opset_version=opset)
    stats = onnx.compose.add_prefix(onnx.load(path), "domain_stats/")
    rename = {f"domain_stats/{i}": n for i, n in zip(inputs, names)}
    rename["domain_stats/domain"] = "domain"
    for n in stats.graph.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
        n.output[:] = [rename.get(o, o) for o in n.output]
    out.graph.node.extend(stats.graph.node)
    out.graph.initializer.extend(stats.graph.initializer)
    dim = 2 * sum(t.shape[1] for t in taps)
    out.graph.output.append(onnx.helper.make_tensor_value_info("domain", onnx.TensorProto.FLOAT, [1, dim]))
    onnx.checker.check_model(out)
    return out, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="whole-strip model .onnx, its manifest beside it")
    ap.add_argument("--out", required=True, help="path stem of the new model (NEW.onnx, ...)")
    ap.add_argument("--validated", nargs="+", required=True, help="folders of strips the model was validated on")
    ap.add_argument("--validated-heldout", nargs="+", required=True,
                    help="more such strips, not used in the fit: the limit sits above them")
    ap.add_argument("--unlike", nargs="+", required=True,
                    help="NAME=DIR[:N]: real steel of other lines, each image fitted as N photometric variants "
                         "(default 1: as it is)")
    ap.add_argument("--version", required=True)
    ap.add_argument("--name", help="model name (default: the input model's)")
    ap.add_argument("--variants-validated", type=int, default=2, help="photometric variants per validated strip")
    ap.add_argument("--scale", type=int, default=4, help="the branch sees the strip averaged this many times down")
    ap.add_argument("--blocks", default="6,13", help="MobileNetV2 blocks whose outputs' statistics the check reads")
    ap.add_argument("--shared-trunk", action="store_true",
                    help="no branch: the model's own first blocks are ImageNet MobileNetV2's, frozen (finetune.py "
                         "--freeze past the last of --blocks), and the check reads them at full resolution")
    ap.add_argument("--margin", type=float, default=1.0, help="limit: highest held-out validated score plus this")
    ap.add_argument("--l2", type=float, default=1e-3, help="the logistic regression's L2 penalty")
    ap.add_argument("--cache", help="folder that keeps the features of each image list, for a rerun")
    ap.add_argument("--through-engine", action="store_true",
                    help="fit on the vectors the application's engine computes from the new graph (tools/vectors), "
                         "not on the float branch's: needed for an INT8 --shared-trunk")
    ap.add_argument("--validated-on", required=True, help="words for the reason shown: what the model was validated on")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)

    if args.shared_trunk and args.scale != 1:
        ap.error("--shared-trunk reads the model's own full-resolution blocks: --scale 1")
    branch = DomainBranch(PRETRAINED, args.scale, [int(b) for b in args.blocks.split(",")]).eval()
    val = [p for d in args.validated for p in image_files(d)]
    held = [p for d in args.validated_heldout for p in image_files(d)]
    unlike, names, counts = [], [], []
    for spec in args.unlike:
        name, d = spec.split("=", 1)
        n = 1
        if ":" in d:
            d, n = d.rsplit(":", 1)
            n = int(n)
        ps = image_files(d)
        unlike += ps
        names += [name] * len(ps)
        counts += [n] * len(ps)
        print(f"unlike {name}: {len(ps)} images in {d}, {n} variant(s) each")
    print(f"validated: {len(val)} strips, held out: {len(held)}", flush=True)

    model = onnx.load(args.model)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if args.shared_trunk:
        require_imagenet_trunk(model, branch)
        merged, taps = merge_shared(model, branch, opset)
        print(f"shared trunk: the check reads {', '.join(taps)}")
    else:
        merged = merge(model, export_branch(branch, opset))
    stem = args.out
    onnx.save(merged, stem + ".onnx")
    dim = int(merged.graph.output[-1].type.tensor_type.shape.dim[1].dim_value)
    with open(args.model[:-len(".onnx")] + ".manifest.json") as f:
        man = json.load(f)
    with open(os.path.join(os.path.dirname(args.model), man["familiarity"]["file"])) as f:
        fam = json.load(f)

    if args.through_engine:
        # the engine wires the domain output once the familiarity file has a check of that size
        write_model(stem, man, fam, {"validated_on": args.validated_on, "unlike": "", "dim": dim, "mean": [0.0] * dim,
                                     "scale": [1.0] * dim, "weights": [0.0] * dim, "bias": 0.0, "limit": 0.0}, args)
        rows = lambda paths, n: engine_features(stem + ".manifest.json", paths, n, args.cache)  # noqa: E731
    else:
        rows = lambda paths, n: features(branch, paths, n, args.cache)  # noqa: E731
    xv, _, _ = rows(val, args.variants_validated)
    xh, _, _ = rows(held, 1)
    xu, origin, which = rows(unlike, counts)
    names = np.array(names)[origin]
    plain = which == 0  # the image as it is: what the report counts

    oof = out_of_fold(xv, xu, [group_of(unlike[i]) for i in origin], l2=args.l2)
    check = Logistic(np.concatenate([xv, xu]), np.r_[np.zeros(len(xv)), np.ones(len(xu))], l2=args.l2)
    sh = check.score(xh)
    limit = float(np.ceil((sh.max() + args.margin) * 100) / 100)
    report = {"validated_heldout": {"strips": len(held), "max": round(float(sh.max()), 3),
                                    "inside": int((sh <= limit).sum())}, "limit": limit, "unlike_out_of_fold": {}}
    for n in sorted(set(names)):
        s = oof[(names == n) & plain]
        report["unlike_out_of_fold"][n] = {"images": int(len(s)), "caught": int((s > limit).sum()),
                                           "min": round(float(s.min()), 3)}
        print(f"  {n}: out of fold {int((s > limit).sum())} of {len(s)} over the limit {limit} (lowest {s.min():.2f})")
    print(f"  validated held out: highest {sh.max():.2f}, {int((sh <= limit).sum())} of {len(sh)} inside")

    man.setdefault("provenance", {})["domain_check"] = {
        "method": (f"ImageNet MobileNetV2 (frozen) block{'s' if len(branch.blocks) > 1 else ''} "
                   f"{' and '.join(map(str, branch.blocks))} "
                   + ("of the model's own trunk at full resolution" if args.shared_trunk
                      else f"on the band averaged {args.scale}x{args.scale} down")
                   + f", mean and standard deviation of each channel over the band ({dim} values"
                   + (", as the engine computes them from this graph" if args.through_engine else "")
                   + f"), logistic regression (L2 {args.l2:g}): validated strips against real steel of other lines "
                   "(training/domain_check.py)"),
        "validated_on": args.validated_on, "fitted_on": {"validated": len(val), "unlike": len(unlike)},
        "report": report,
    }
    fam_name = write_model(stem, man, fam, {
        "validated_on": args.validated_on,
        "unlike": ", ".join(f"{n} ({int(((names == n) & plain).sum())} images)" for n in sorted(set(names))),
        "dim": dim,
        "mean": [float(v) for v in check.mean], "scale": [float(v) for v in check.scale],
        "weights": [float(v) for v in check.w], "bias": check.b, "limit": limit,
    }, args)
    print(json.dumps(report, indent=1))
    print(f"wrote {stem}.onnx, {stem}.manifest.json, {fam_name}")


def write_model(stem, man, fam, check, args):
    """The familiarity file with the check, then the manifest naming it (hashes of both parts)."""
    fam = dict(fam, domain=check)
    fam_name = os.path.basename(stem) + ".familiarity.json"
    with open(os.path.join(os.path.dirname(stem) or ".", fam_name), "w") as f:
        json.dump(fam, f, allow_nan=False)
    man["file"] = os.path.basename(stem) + ".onnx"
    man["sha256"] = sha256(stem + ".onnx")
    man["version"] = args.version
    if args.name:
        man["name"] = args.name
    man["output"]["domain"] = "domain"
    man["familiarity"]["file"] = fam_name
    man["familiarity"]["sha256"] = sha256(os.path.join(os.path.dirname(stem) or ".", fam_name))
    write_json(stem + ".manifest.json", man)
    return fam_name


def engine_features(manifest, paths, variants=1, cache=None):
    """features()'s rows, computed by the application's engine on the model as it runs
    (tools/vectors): an INT8 trunk's statistics differ from its float original's, on real steel
    by more than the check's margin (fitted on the float ones, the shared-trunk check let 14 of
    the 70 real Severstal strips through in the engine). Variants are written as PNG files for it."""
    counts = variants if isinstance(variants, (list, np.ndarray)) else [variants] * len(paths)
    with open(manifest) as f:
        graph_sha = json.load(f)["sha256"]
    path = None
    if cache:
        key = json.dumps([[os.path.abspath(p) for p in paths], [int(c) for c in counts], "engine", graph_sha])
        path = os.path.join(cache, hashlib.sha256(key.encode()).hexdigest()[:20] + ".npz")
        if os.path.exists(path):
            z = np.load(path)
            return z["rows"], z["origin"], z["which"]
    files, origin, which = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, p in enumerate(paths):
            g = load_gray(p) if counts[i] > 1 else None
            for k in range(counts[i]):
                f = p
                if k > 0:
                    f = os.path.join(tmp, f"{i}-{k}.png")
                    Image.fromarray(np.round(variant(g, VARIANTS[k]) * 255).astype(np.uint8)).save(f)
                files.append(os.path.abspath(f))
                origin.append(i)
                which.append(k)
        out = subprocess.run(["go", "run", "./tools/vectors", "--of", "domain", "--model", os.path.abspath(manifest)],
                             input="\n".join(files) + "\n", cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rows = np.array([[float(v) for v in line.split()] for line in out.splitlines()], np.float64)
    if len(rows) != len(files):
        raise SystemExit(f"tools/vectors gave {len(rows)} vectors for {len(files)} images")
    res = rows, np.array(origin), np.array(which)
    if path:
        os.makedirs(cache, exist_ok=True)
        np.savez(path + ".tmp.npz", rows=res[0], origin=res[1], which=res[2])
        os.replace(path + ".tmp.npz", path)
    return res

if __name__ == "__main__":
    sys.exit(main())
