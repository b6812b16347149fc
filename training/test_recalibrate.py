"""recalibrate.py's inversion of the calibrated probability (the engine part needs a model)."""
import unittest

import numpy as np

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


if __name__ == "__main__":
    unittest.main()
