"""gray_stem.py: the one-channel model computes what the three-channel one did on grey input."""
import unittest

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper, TensorProto

import gray_stem

PRE = {"scale": 1.0 / 255.0, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def conv_model(w, b, extra_user=None):
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, "h", "w"])]
    if extra_user:
        nodes.append(helper.make_node(extra_user, ["input"], ["z"], kernel_shape=[2, 2]))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3, "h", "w"]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "H", "W"])],
                          outputs, [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def run_conv(model, x):
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    return F.conv2d(x, inits["w"], inits["b"], stride=2, padding=1)


class TestGrayStem(unittest.TestCase):
    def test_the_folded_stem_gives_the_same_output_on_grey_strips(self):
        rng = np.random.default_rng(0)
        w = rng.normal(size=(8, 3, 3, 3)).astype(np.float32)
        b = rng.normal(size=8).astype(np.float32)
        model = conv_model(w, b)
        gray = torch.from_numpy(rng.integers(0, 256, size=(1, 1, 32, 48)).astype(np.float32))
        three = torch.cat([(gray * PRE["scale"] - m) / s for m, s in zip(PRE["mean"], PRE["std"])], 1)
        want = run_conv(model, three)
        pre = gray_stem.fold(model, PRE)
        self.assertEqual(model.graph.input[0].type.tensor_type.shape.dim[1].dim_value, 1)
        one = (gray * pre["scale"] - pre["mean"][0]) / pre["std"][0]
        got = run_conv(model, one)
        self.assertEqual(tuple(got.shape), tuple(want.shape))
        # exact away from the zero padding of the first row and column
        np.testing.assert_allclose(got[..., 1:, 1:].numpy(), want[..., 1:, 1:].numpy(), rtol=1e-4, atol=1e-4)
        # and close on it: the padded channels saw 0 where the folded one sees (m - m_c) / s_c
        self.assertLess(float((got - want).abs().max()), 0.25 * float(want.abs().max()))

    def test_an_input_that_feeds_anything_but_a_convolution_is_refused(self):
        model = conv_model(np.ones((4, 3, 3, 3), np.float32), np.zeros(4, np.float32), extra_user="AveragePool")
        with self.assertRaises(SystemExit):
            gray_stem.fold(model, PRE)


if __name__ == "__main__":
    unittest.main()
