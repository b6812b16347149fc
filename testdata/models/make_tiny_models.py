#!/usr/bin/env python3
"""Writes the tiny deterministic ONNX models the Go tests run on.

Each model scores a patch by its mean brightness, so a test can compute the
exact expected probability by hand:

  tiny-nchw   input [N,3,256,256] NCHW, output probability = mean(x)
  tiny-nhwc   input [N,256,256,3] NHWC, output probability = mean(x)
  tiny-logit  input [N,1,256,256] NCHW, output logit = 8*(mean(x) - 0.5)
  tiny-strip  whole-strip variant: input [1,3,H,W] NCHW, output probability
              [1,H/32-7,W/32-7] = mean(x) of every 256x256 window on the 32-px grid

With the manifests' scaling (scale 1/255, mean 0, std 1) mean(x) is the
patch's mean pixel value divided by 255. Run with Debian's python3-onnx:
  /usr/bin/python3 testdata/models/make_tiny_models.py
"""
import hashlib
import json
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def finish(graph):
    """The graph as a checked model at the tests' opset and IR version."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="steelinspect-testdata")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def mean_graph(name, in_shape, logit):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)
    out_name = "logit" if logit else "probability"
    y = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", 1])
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m", "shape"], ["flat" if logit else out_name]),
    ]
    inits = [helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1])]
    if logit:
        nodes += [
            helper.make_node("Sub", ["flat", "half"], ["centred"]),
            helper.make_node("Mul", ["centred", "gain"], [out_name]),
        ]
        inits += [
            helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
            helper.make_tensor("gain", TensorProto.FLOAT, [], [8.0]),
        ]
    return finish(helper.make_graph(nodes, name, [x], [y], initializer=inits))


def strip_graph(name):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, "R", "C"])
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("AveragePool", ["grey"], ["windows"], kernel_shape=[256, 256], strides=[32, 32]),
        helper.make_node("Squeeze", ["windows", "axis1"], ["probability"]),
    ]
    inits = [helper.make_tensor("axis1", TensorProto.INT64, [1], [1])]
    return finish(helper.make_graph(nodes, name, [x], [y], initializer=inits))


def write(name, in_shape, layout, channels, logit, variant="per-patch"):
    model = strip_graph(name) if variant == "whole-strip" else mean_graph(name, in_shape, logit)
    path = os.path.join(HERE, name + ".onnx")
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)
    manifest = {
        "name": name,
        "version": "0.0.1",
        "file": name + ".onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "variant": variant,
        "input": {"name": "input", "layout": layout, "channels": channels,
                  "patch_size": 256, "stride": 128, **({"cell": 32} if variant == "whole-strip" else {})},
        "preprocessing": {"scale": 1 / 255, "mean": [0.0] * channels, "std": [1.0] * channels},
        "output": {"name": "logit" if logit else "probability",
                   "kind": "logit" if logit else "probability"},
        "classes": ["defect"],
        "default_thresholds": {"pass": 0.40, "reject": 0.65},
        "provenance": {
            "description": "test model: patch probability is its mean brightness",
            "trained_on": "nothing (hand-written graph)",
            "date": "2026-11-26",
        },
    }
    with open(os.path.join(HERE, name + ".manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    write("tiny-nchw", ["N", 3, 256, 256], "NCHW", 3, logit=False)
    write("tiny-nhwc", ["N", 256, 256, 3], "NHWC", 3, logit=False)
    write("tiny-logit", ["N", 1, 256, 256], "NCHW", 1, logit=True)
    write("tiny-strip", None, "NCHW", 3, logit=False, variant="whole-strip")
