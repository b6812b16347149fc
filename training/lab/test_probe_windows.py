"""lab/probe_windows.py's threshold placement and strip scores (the engine part needs a model)."""
import unittest

import numpy as np

from lab import probe_windows as pw


class TestThresholds(unittest.TestCase):
    def test_a_strip_scores_its_highest_window(self):
        s = pw.strip_scores(np.array([0.1, 0.9, -2.0, 0.3]), np.array([0, 0, 1, 1]), 2)
        np.testing.assert_allclose(s, [0.9, 0.3])

    def test_the_budget_moves_the_cuts_past_the_extremes(self):
        d = np.array([True] * 100 + [False] * 100)
        s = np.r_[np.linspace(1, 2, 100), np.linspace(-2, -1, 100)]
        s[0], s[100] = -5.0, 5.0  # one defective strip lowest of all, one clean strip highest
        p, r = pw.thresholds(s, d, 0.0)
        self.assertEqual((p, r), (-5.0, 5.0))
        self.assertEqual(pw.judged(s, d, p, r), (0, 0, 1.0))  # nothing wrong, everything reviewed
        p, r = pw.thresholds(s, d, 0.01)  # one of each allowed
        missed, rejected, review = pw.judged(s, d, p, r)
        self.assertEqual((missed, rejected), (1, 1))
        self.assertLess(review, 0.05)


if __name__ == "__main__":
    unittest.main()
