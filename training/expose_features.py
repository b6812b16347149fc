"""Give a whole-strip model made before familiarity (e.g. the synthetic-only EfficientNet 3.1.0) its
window features as a second output, `features` [1, D, rows, cols], so that `steelinspect
familiarity` can fit statistics on them and training/domain_check.py can add its check.

The tensor to expose is the window pooling's output, the head's input: `/m/m/AveragePool_output_0`
in the EfficientNet whole-strip graphs (training/legacy/strip_model.py). The graph is otherwise
unchanged: ONNX Runtime computes the same probabilities, and the tensor was computed anyway.

  python3 training/expose_features.py --model models/steel-effnetb0-relu6-strip-int8.onnx \
      --tensor /m/m/AveragePool_output_0 --out /tmp/m.onnx
It writes OUT and OUT's manifest (the input manifest with output.features set and the new sha256).
"""
import argparse
import hashlib
import json

import onnx

from common import write_json


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tensor", required=True, help="the window features' tensor in the graph")
    ap.add_argument("--out", required=True, help="new .onnx (its manifest is written beside it)")
    args = ap.parse_args()
    m = onnx.load(args.model)
    g = m.graph
    dim = None
    for n in g.node:
        n.output[:] = ["features" if o == args.tensor else o for o in n.output]
        n.input[:] = ["features" if i == args.tensor else i for i in n.input]
        if n.op_type == "Conv" and "features" in n.input:
            w = next(t for t in g.initializer if t.name == n.input[1])
            dim = w.dims[1]
    if dim is None:
        raise SystemExit(f"no convolution reads {args.tensor}: is it the window pooling's output?")
    g.output.append(onnx.helper.make_tensor_value_info("features", onnx.TensorProto.FLOAT, [1, dim, "rows", "cols"]))
    onnx.checker.check_model(m)
    onnx.save(m, args.out)
    with open(args.model[:-len(".onnx")] + ".manifest.json") as f:
        man = json.load(f)
    man["file"] = args.out.rsplit("/", 1)[-1]
    with open(args.out, "rb") as f:
        man["sha256"] = hashlib.sha256(f.read()).hexdigest()
    man["output"]["features"] = "features"
    write_json(args.out[:-len(".onnx")] + ".manifest.json", man)
    print(f"wrote {args.out} (features: {dim} values per window) and its manifest")


if __name__ == "__main__":
    main()
