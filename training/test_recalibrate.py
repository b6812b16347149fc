"""recalibrate.py's inversion of the calibrated probability (the engine part needs a model)."""
import unittest

import numpy as np

import finetune
import recalibrate


class TestRawLogits(unittest.TestCase):
    def test_the_calibration_is_undone(self):
        raw = np.array([-6.0, -1.5, 0.0, 2.0, 7.0])
        p = 1 / (1 + np.exp(-(0.5 * raw + 1.4)))
        np.testing.assert_allclose(recalibrate.raw_logits(p, 0.5, 1.4), raw, atol=1e-9)

    def test_a_saturated_probability_stays_finite(self):
        v = recalibrate.raw_logits([0.0, 1.0], 0.5, 1.4)
        self.assertTrue(np.all(np.isfinite(v)))
        self.assertLess(v[0], -20)
        self.assertGreater(v[1], 20)


class TestObjective(unittest.TestCase):
    """The calibration the refit chooses: a clean strip auto-rejected is as wrong as a defective
    one auto-passed (weighed 3 against 10, the synthetic-only MobileNetV2 rejected 5 of 30 clean
    held-out strips to save review)."""

    def test_a_false_reject_costs_what_a_missed_strip_costs(self):
        low, high = np.array([-6.0, -5.0]), np.array([5.0, 6.0])
        missed = [(low, None, True), (low, None, False)]       # the defective strip passes
        rejected = [(high, None, False), (high, None, True)]   # the clean strip is rejected
        self.assertEqual(finetune.summarise(missed)["missed"], 1)
        self.assertEqual(finetune.summarise(rejected)["false_rejects"], 1)
        self.assertAlmostEqual(finetune.objective({"synth": missed}, 1.0, 0.0),
                               finetune.objective({"synth": rejected}, 1.0, 0.0))

    def test_the_fit_reviews_rather_than_rejects_clean_steel(self):
        # 20 defective strips well above 20 clean ones, and one clean strip among the defective ones:
        # rejecting it would spare 1 of 41 strips a review
        res = [(np.array([2.0 + 0.1 * i]), None, True) for i in range(20)]
        res += [(np.array([-3.0 - 0.1 * i]), None, False) for i in range(20)] + [(np.array([2.5]), None, False)]
        a, b, _ = finetune.fit_calibration({"synth": res})
        s = finetune.summarise(res, a, b)
        self.assertEqual((s["missed"], s["false_rejects"]), (0, 0), s)
        self.assertLess(s["review_rate"], 0.5)


if __name__ == "__main__":
    unittest.main()
