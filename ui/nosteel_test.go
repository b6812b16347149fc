package ui

import (
	"context"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// flatFrame is what a camera gives with no steel under it: flat grey with
// sensor noise.
func flatFrame(seed uint64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	r := rand.New(rand.NewPCG(seed, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(70 + 3*r.NormFloat64())
	}
	return img
}

// TestPassingAFrameWithoutSteelNeedsAReason: a frame with no steel goes to
// REVIEW with the reason on the card; P on it asks for a reason, as an
// override does, and records the PASS only with one; R needs none.
func TestPassingAFrameWithoutSteelNeedsAReason(t *testing.T) {
	h, store := newStation(t)
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "flat.png", flatFrame(1)))
	w := h.ins.card
	if w.decision.Text != "REVIEW" {
		t.Fatalf("decision %q", w.decision.Text)
	}
	if !strings.HasSuffix(w.confidence.Text, "· a guess") || !strings.HasPrefix(w.level.Text, "No confidence") {
		t.Errorf("the card gives the model's score on a frame without steel as %q / %q, want it called a guess",
			w.confidence.Text, w.level.Text)
	}
	a := h.ins.currentAnalysis()
	if a == nil || verdict.CautionReasons(a.Cautions) != inference.NoTextureReason(inference.PatternFlat) {
		t.Fatalf("cautions %+v", a)
	}
	if rows := history(t, store); len(rows) != 1 || rows[0].CautionKinds != "implausible" || !strings.Contains(rows[0].Cautions, "no steel texture") {
		t.Fatalf("recorded %+v", rows)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	if !history(t, store)[0].OperatorDecision.IsZero() {
		t.Fatal("P recorded a PASS of a frame without steel without asking why")
	}
	if h.ins.topDialog() == nil {
		t.Fatal("no reason dialog")
	}
	if f := h.ins.Window().Canvas().Focused(); f != nil {
		t.Errorf("the reason box took the focus from the key that opened it: %T", f)
	}
	// Esc closes it: still nothing recorded
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.waitIdle()
	if h.ins.topDialog() != nil || !history(t, store)[0].OperatorDecision.IsZero() {
		t.Fatal("Esc did not cancel the PASS")
	}
	h.ins.review.decideWithReason(verdict.Pass, "ok")
	h.waitIdle()
	if !history(t, store)[0].OperatorDecision.IsZero() {
		t.Error("a reason that says nothing was accepted")
	}
	// the trail's own refusal, shown
	if n := len(h.ins.errorsShown); n != 1 || !strings.Contains(h.ins.errorsShown[0], "implausible needs a reason") {
		t.Errorf("refusal not shown: %q", h.ins.errorsShown)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.ins.errorsShown = nil
	h.ins.review.decideWithReason(verdict.Pass, "lamp was off; steel checked by hand")
	h.waitIdle()
	row := history(t, store)[0]
	if !row.OperatorDecision.Is(verdict.Pass) || row.ReviewReason != "lamp was off; steel checked by hand" || row.Operator != "alice" {
		t.Errorf("row %+v", row)
	}

	// R on another such frame is recorded at once
	second := writePNG(t, dir, "flat2.png", flatFrame(2))
	h.openPaths(second)
	if it := h.ins.currentItem(); it == nil || it.path != second || it.auto != verdict.Review {
		t.Fatalf("shown %+v", it)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyR})
	h.waitIdle()
	rejected := false
	for _, r := range history(t, store) {
		rejected = rejected || r.Path == second && r.OperatorDecision.Is(verdict.Reject) && r.ReviewReason == ""
	}
	if !rejected || h.ins.topDialog() != nil {
		t.Errorf("R on a frame without steel not recorded at once: %+v (a dialog open: %v)", history(t, store), h.ins.topDialog() != nil)
	}
}

// A REVIEW strip restored from the trail keeps its recorded cautions: P on
// an implausible one asks for a reason.
func TestRestoredImplausibleStripNeedsAReason(t *testing.T) {
	store := openStore(t)
	path := writePNG(t, t.TempDir(), "flat.png", flatFrame(3))
	if _, err := store.Add(context.Background(), audit.Inspection{InspectedAt: time.Now(), Source: "watch", Path: path, AutoDecision: verdict.Review,
		ModelName: "tiny", PassThreshold: 0.4, RejectThreshold: 0.65, CautionKinds: "implausible", Cautions: inference.NoTextureReason(inference.PatternFlat)}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	h.waitIdle()
	if len(h.ins.processed.items) != 1 || !verdict.ReasonRequired(h.ins.processed.items[0].auto, verdict.Pass, h.ins.processed.items[0].cautions) {
		t.Fatalf("restored %+v", h.ins.processed.items)
	}
}
