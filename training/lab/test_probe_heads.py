"""probe_heads.py, the checkpoint diagnosis (issue 14): its floor count and its local head's windows,
on made-up arrays and a random backbone (no data needed).

    /usr/bin/python3 -m unittest discover -s training -p 'test_probe_heads.py'
"""
import contextlib
import io
import unittest

import numpy as np
import torch

from common import window_labels
from lab import probe_heads


class FloorTest(unittest.TestCase):
    def test_counts_windows_and_strips_at_the_shared_logit(self):
        floor = -2.43
        # 3 strips of 43 windows: a clean one all at the floor, a defective one all at the floor (the
        # tie a calibration cannot break), a defective one above it in one window
        logits = np.full((3, 1, 43), floor, np.float32)
        logits[2, 0, 5] = 4.0
        sets = {"s": {"l": logits, "h": np.ones((3, 128, 1, 43), bool), "d": np.array([False, True, True]),
                      "z": np.array([1.0, 0.5, 0.0])}}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            probe_heads.floor_report(sets)
        text = out.getvalue()
        self.assertIn("floor: logit -2.43", text)
        self.assertIn("99 % of windows at the floor", text)  # 128 of 129
        self.assertIn("50 % of 1/32 cells with all 1280 top features at or below zero", text)
        self.assertIn("defective 1 of 2, clean 1 of 1", text)


class LocalHeadTest(unittest.TestCase):
    def test_windows_line_up_with_the_strip_heads_windows(self):
        """The local head's /16 max-pooled windows are the /32 head's windows: same count, and a
        defect inside window k's 256 px lights window k (and its overlapping neighbours) only."""
        torch.manual_seed(0)
        mask = np.zeros((256, 1600), bool)
        mask[100:140, 700:740] = True
        c = torch.from_numpy(probe_heads.cells(mask).astype(np.float32))[None]
        wins = probe_heads.win_labels(c)[0].numpy().astype(int)
        np.testing.assert_array_equal(wins, window_labels(mask))

        head = probe_heads.LocalHead().eval()
        f = torch.zeros(1, 128, 16, 100)
        f[0, :, 100 // 16:140 // 16 + 1, 700 // 16:740 // 16 + 1] = 5.0
        with torch.no_grad():
            out = head(f)[0]
            loc = head.loc(f)[0]
        self.assertEqual(tuple(out.shape), (1, 43))
        # each window is the highest location score inside its 256x256 pixels
        for col in (0, 17, 22, 42):
            want = loc[:, 2 * col:2 * col + 16].max().item()
            self.assertAlmostEqual(out[0, col].item(), want, places=5)

    def test_mask_labels_keep_the_defect_borders_out(self):
        c = torch.zeros(1, 4, 6)
        c[0, 1, 2] = 40  # a defect cell
        c[0, 1, 3] = 3   # a few mask pixels beside it: neither clean nor defective
        lab = probe_heads.loc_labels(c, pos_px=16)[0]
        self.assertEqual(lab[1, 2].item(), 1)
        self.assertEqual(lab[1, 3].item(), -1)
        self.assertEqual(lab[0, 1].item(), -1)  # touches the defect cell
        self.assertEqual(lab[3, 5].item(), 0)
        unknown = probe_heads.loc_labels(torch.full((1, 4, 6), -1.0), pos_px=16)
        self.assertTrue((unknown == -1).all())


if __name__ == "__main__":
    unittest.main()
