"""quantize.py's graph passes that need no model file."""
import unittest

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import quantize


def conv_graph(output_quantised):
    """x -> Q/DQ -> Conv with int8 per-channel weights through a DequantizeLinear -> y, and (when
    output_quantised) y through a QuantizeLinear/DequantizeLinear pair, as quantize.py writes."""
    wq = np.array([[[[3]], [[-2]]], [[[127]], [[0]]], [[[-127]], [[5]]]], np.int8)  # 3 out, 2 in, 1x1
    inits = [numpy_helper.from_array(wq, "w_q"), numpy_helper.from_array(np.array([0.5, 0.25, 2.0], np.float32), "w_s"),
             numpy_helper.from_array(np.zeros(3, np.int8), "w_z"),
             numpy_helper.from_array(np.array(0.1, np.float32), "s"), numpy_helper.from_array(np.array(128, np.uint8), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["x_q"]),
             helper.make_node("DequantizeLinear", ["x_q", "s", "z"], ["x_dq"]),
             helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w_dq"], axis=0, name="w_DQ"),
             helper.make_node("Conv", ["x_dq", "w_dq"], ["y"], name="conv")]
    out = "y"
    if output_quantised:
        nodes += [helper.make_node("QuantizeLinear", ["y", "s", "z"], ["y_q"]),
                  helper.make_node("DequantizeLinear", ["y_q", "s", "z"], ["y_dq"])]
        out = "y_dq"
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 3, 4, 4])], inits)
    return helper.make_model(g), wq


class TestFoldFloatConvWeights(unittest.TestCase):
    def test_a_float_conv_gets_the_dequantised_weights_as_constants(self):
        m, wq = conv_graph(output_quantised=False)
        self.assertEqual(quantize.fold_float_conv_weights(m), 1)
        self.assertNotIn("w_DQ", [n.name for n in m.graph.node])
        inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        want = wq.astype(np.float32) * np.array([0.5, 0.25, 2.0], np.float32).reshape(-1, 1, 1, 1)
        np.testing.assert_array_equal(inits["w_dq"], want)
        self.assertNotIn("w_q", inits)  # the int8 copy is gone with its reader

    def test_a_conv_onnx_runtime_runs_in_int8_keeps_its_dequantize(self):
        m, _ = conv_graph(output_quantised=True)
        self.assertEqual(quantize.fold_float_conv_weights(m), 0)
        self.assertIn("w_DQ", [n.name for n in m.graph.node])


if __name__ == "__main__":
    unittest.main()
