package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"steelinspect/verdict"
)

// findCardRow finds the container that lays out the result card and its
// figures.
func findCardRow(o fyne.CanvasObject) *fyne.Container {
	c, ok := o.(*fyne.Container)
	if !ok {
		return nil
	}
	if _, ok := c.Layout.(*cardBeside); ok {
		return c
	}
	for _, ch := range c.Objects {
		if found := findCardRow(ch); found != nil {
			return found
		}
	}
	return nil
}

// TestWindowFitsA1280Screen: the window asks for no more than a 1280×720
// screen, with a REVIEW card and after a threshold change relabels it
// ("Recorded as REVIEW; would be REJECT now…"): the card's figures fold
// under it instead of a two-column grid doubling the card's width (the
// real window asked for 1318 px), and long card text wraps instead of
// widening the window.
func TestWindowFitsA1280Screen(t *testing.T) {
	h, _ := newStation(t)
	test.ApplyTheme(t, newStationTheme())
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "b.png", stripB()), writePNG(t, dir, "a.png", stripA()))
	h.ins.review.setOperator("M. Keller")
	h.ins.showItem(0) // REVIEW
	h.waitIdle()
	content := h.ins.Window().Content()
	check := func(state string) float32 {
		t.Helper()
		content.Refresh()
		min := content.MinSize()
		if min.Width > 1280 || min.Height > 720 {
			t.Errorf("%s: the window asks for %v, more than a 1280×720 screen", state, min)
		}
		row := findCardRow(h.ins.card.results)
		if row == nil {
			t.Fatalf("%s: no card row that folds", state)
		}
		card, figures := row.Objects[0].MinSize(), row.Objects[1].MinSize()
		if w := row.MinSize().Width; w > max(card.Width, figures.Width)+2*theme.Padding() {
			t.Errorf("%s: the card row asks %.0f px, more than its widest part (%.0f, %.0f)", state, w, card.Width, figures.Width)
		}
		return min.Width
	}
	before := check("REVIEW card")
	h.ins.settings.SetThresholds(0.30, 0.50, true) // recorded REVIEW, would be REJECT now
	h.waitIdle()
	if after := check("after a threshold change"); after > before {
		t.Errorf("a threshold change widened the window from %.0f to %.0f px", before, after)
	}
	// a batch in progress: its progress bar, counts and Cancel join the
	// window (the real window grew to 1426 px)
	h.ins.w.modelBtn.Show() // as in the real window, which can open models
	h.ins.batchContext()
	h.ins.batchQueued(160)
	for range 37 {
		h.ins.batchStep()
	}
	if !h.ins.batchShown() {
		t.Fatal("no batch progress shown")
	}
	check("during a batch")
	h.ins.endBatch()
	// two reasons on the card: the advice line carries both, and wraps
	a := h.ins.currentAnalysis()
	a.Cautions = append(a.Cautions,
		verdict.Caution{Kind: verdict.CautionImplausible, Reason: "no steel texture: flat frame with sensor noise, possible camera or lighting fault"},
		verdict.Caution{Kind: verdict.CautionUnfamiliar, Reason: "unfamiliar strip: unlike anything the model was trained or validated on (familiarity 3.4, limit 2.9)"})
	h.ins.redecide()
	if !strings.Contains(h.ins.card.action.Text, "no steel texture") || !strings.Contains(h.ins.card.action.Text, "unfamiliar strip") {
		t.Fatalf("the card does not carry both reasons: %q", h.ins.card.action.Text)
	}
	check("with two reasons on the card")
}
