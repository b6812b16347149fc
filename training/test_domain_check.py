"""Tests of domain_check.py's parts that need no data: the engine's bands, the photometric
variants, the discriminator and the grouping of its out-of-fold report; and its vectors through
the Go engine, on the bundled model and a demo strip."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper

import domain_check as dc


class TestBands(unittest.TestCase):
    def test_a_strip_is_one_band_and_a_small_image_is_padded_by_its_edge(self):
        strip = np.random.default_rng(0).random((256, 1600), dtype=np.float32)
        b = dc.bands(strip)
        self.assertEqual(len(b), 1)
        self.assertEqual(tuple(b[0].shape), (1, 3, 256, 1600))
        small = np.arange(200 * 200, dtype=np.float32).reshape(200, 200) / (200 * 200)
        (band,) = dc.bands(small)
        self.assertEqual(tuple(band.shape), (1, 3, 256, 256))
        x = band[0, 0].numpy()
        # the padding repeats the last row and column, as the engine's fillRegion does
        np.testing.assert_allclose(x[255, :200], x[199, :200])
        np.testing.assert_allclose(x[:200, 255], x[:200, 199])

    def test_a_tall_image_is_banded_every_half_patch_with_the_last_flush(self):
        tall = np.zeros((600, 400), np.float32)
        self.assertEqual(len(dc.bands(tall)), 4)  # y = 0, 128, 256 and 344


class TestVariants(unittest.TestCase):
    def test_the_first_variant_is_the_image_as_it_is_and_all_stay_in_range(self):
        g = np.random.default_rng(1).random((32, 48), dtype=np.float32)
        np.testing.assert_array_equal(dc.variant(g, dc.VARIANTS[0]), g)
        for v in dc.VARIANTS:
            out = dc.variant(g, v)
            self.assertEqual(out.shape, g.shape)
            self.assertGreaterEqual(out.min(), 0.0)
            self.assertLessEqual(out.max(), 1.0)
        np.testing.assert_allclose(dc.variant(g, dc.VARIANTS[1]), g[:, ::-1])


class TestDiscriminator(unittest.TestCase):
    def test_it_separates_two_kinds_and_scores_in_standardised_units(self):
        rng = np.random.default_rng(2)
        a = rng.normal(0, 1, (300, 8))
        b = rng.normal(0, 1, (100, 8))
        b[:, 3] += 4
        c = dc.Logistic(np.concatenate([a, b]), np.r_[np.zeros(300), np.ones(100)])
        self.assertLess(np.median(c.score(a)), 0)
        self.assertGreater(np.median(c.score(b)), 0)
        self.assertGreater(abs(c.w[3]), np.abs(np.delete(c.w, 3)).max())

    def test_out_of_fold_keeps_a_group_on_one_side(self):
        rng = np.random.default_rng(3)
        xv = rng.normal(0, 1, (200, 4))
        xu = rng.normal(3, 1, (40, 4))
        groups = [f"g{i // 4}" for i in range(40)]
        s = dc.out_of_fold(xv, xu, groups)
        self.assertEqual(len(s), 40)
        self.assertGreater((s > 0).mean(), 0.9)
        self.assertEqual(dc.group_of("/x/cr7det_pits39_clean.png"), "cr7det_pits39")
        self.assertEqual(dc.group_of("/x/0a26aceb2.jpg"), "0a26aceb2.jpg")


def trunk_graph(quantised):
    """A stand-in for finetune.py's export: block 5's conv, then block 6 whose last node is an Add,
    with (quantised) a QuantizeLinear/DequantizeLinear pair after it, as quantize.py writes."""
    nodes = [helper.make_node("Conv", ["input", "w"], ["c5"], name="/net/features/features.5/conv/Conv"),
             helper.make_node("Conv", ["c5", "w6"], ["c6"], name="/net/features/features.6/conv/Conv"),
             helper.make_node("Add", ["c5", "c6"], ["a6"], name="/net/features/features.6/Add")]
    last = "a6"
    if quantised:
        nodes += [helper.make_node("QuantizeLinear", ["a6", "s", "z"], ["a6_q"], name="/net/features/features.6/Add_q"),
                  helper.make_node("DequantizeLinear", ["a6_q", "s", "z"], ["a6_dq"],
                                   name="/net/features/features.6/Add_dq")]
        last = "a6_dq"
    nodes.append(helper.make_node("Relu", [last], ["out"], name="/net/features/features.7/Relu"))
    inits = [numpy_helper.from_array(np.ones((4, 3, 1, 1), np.float32), "w"),
             numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w6"),
             numpy_helper.from_array(np.array(0.1, np.float32), "s"), numpy_helper.from_array(np.array(0, np.uint8), "z")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, 8, 8])], inits)
    return helper.make_model(g)


class TestSharedTrunk(unittest.TestCase):
    def test_it_reads_the_blocks_output_after_its_quantisation(self):
        self.assertEqual(dc.trunk_tensors(trunk_graph(False), [6]), ["a6"])
        self.assertEqual(dc.trunk_tensors(trunk_graph(True), [6]), ["a6_dq"])
        self.assertEqual(dc.trunk_tensors(trunk_graph(False), [5]), ["c5"])
        with self.assertRaises(SystemExit):
            dc.trunk_tensors(trunk_graph(False), [13])

    def test_the_check_dequantises_the_tap_itself(self):
        # a DequantizeLinear of its own beside the next block's: read by the check too, the scorer's was
        # copied by ONNX Runtime for every reader
        m = trunk_graph(True)
        name = dc.own_dequantize(m, "a6_dq")
        self.assertNotEqual(name, "a6_dq")
        mine = [n for n in m.graph.node if name in n.output]
        self.assertEqual(len(mine), 1)
        self.assertEqual((mine[0].op_type, list(mine[0].input)), ("DequantizeLinear", ["a6_q", "s", "z"]))
        self.assertEqual([n.name for n in m.graph.node if "a6_dq" in n.input], ["/net/features/features.7/Relu"])
        self.assertEqual(dc.own_dequantize(trunk_graph(False), "a6"), "a6")  # a float graph reads it as it is

    def test_block_stats_are_the_means_then_the_spreads(self):
        a = torch.arange(2 * 4 * 5, dtype=torch.float32).reshape(1, 2, 4, 5)
        b = torch.ones(1, 3, 2, 2)
        v = dc.BlockStats()(a, b)[0].numpy()
        self.assertEqual(v.shape, (10,))
        np.testing.assert_allclose(v[:2], a.mean(dim=(2, 3))[0].numpy())
        np.testing.assert_allclose(v[2:5], 1.0)
        np.testing.assert_allclose(v[5:7], a.std(dim=(2, 3), unbiased=False)[0].numpy(), rtol=1e-5)
        np.testing.assert_allclose(v[7:], 0.0, atol=1e-5)

    @unittest.skipUnless(os.path.exists(dc.PRETRAINED), "../shared/pretrained is absent: no ImageNet MobileNetV2 to compare")
    def test_a_model_whose_stem_is_not_imagenets_is_refused(self):
        branch = dc.DomainBranch(dc.PRETRAINED, 1, [6])
        with self.assertRaises(SystemExit):
            dc.require_imagenet_trunk(trunk_graph(False), branch)


class TestThroughEngine(unittest.TestCase):
    """--through-engine fits the check on the vectors the engine computes: a strip's vector, under the
    bundled model's own check, scores what `steelinspect scan` reports for it, and a photometric
    variant (written as a PNG file for the engine) gives another vector; the cache returns the same."""

    @unittest.skipUnless(shutil.which("go"), "no Go toolchain: the engine's vectors come from go run ./tools/vectors")
    def test_the_vectors_are_what_the_engine_scores(self):
        manifest = os.path.join(dc.ROOT, "models", "steel-mnv2-synth-int8.manifest.json")
        strip = os.path.join(dc.ROOT, "assets", "demo", "crazing.jpg")
        with tempfile.TemporaryDirectory() as cache:
            rows, origin, which = dc.engine_features(manifest, [strip], 2, cache)
            again = dc.engine_features(manifest, [strip], 2, cache)
            self.assertEqual(len(os.listdir(cache)), 1)
        self.assertEqual(rows.shape, (2, 64))
        self.assertEqual(list(origin), [0, 0])
        self.assertEqual(list(which), [0, 1])
        np.testing.assert_array_equal(again[0], rows)
        self.assertFalse(np.allclose(rows[0], rows[1]), "the mirrored variant gave the same vector")
        with open(manifest) as f:
            fam_file = json.load(f)["familiarity"]["file"]
        with open(os.path.join(dc.ROOT, "models", fam_file)) as f:
            check = json.load(f)["domain"]
        score = float(np.sum(np.asarray(check["weights"]) * (rows[0] - check["mean"]) / check["scale"]) + check["bias"])
        out = subprocess.run(["go", "run", ".", "scan", "--format", "jsonl", strip], cwd=dc.ROOT, check=True,
                             capture_output=True, text=True).stdout
        reported = json.loads(out.splitlines()[0])["familiarity"]["domain"]["score"]
        self.assertAlmostEqual(score, reported, places=2)


if __name__ == "__main__":
    unittest.main()
