package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"steelinspect/verdict"
)

// TestCardNeverContradictsAndOffersReinspect: a strip a person passed,
// which the thresholds now in force would reject, keeps a headline and an
// advice line that agree (no "Auto-reject" under a green PASS), and
// Re-inspect with the current model records it again as a new
// inspection, whose card then stands as recorded. A REVIEW waiting for a
// person is not offered it.
func TestCardNeverContradictsAndOffersReinspect(t *testing.T) {
	h, store := newStation(t)
	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB())) // 58.8 %: REVIEW at 0.40 / 0.65
	w := h.ins.card
	if w.decision.Text != "REVIEW" || w.reinspect.Visible() {
		t.Fatalf("a waiting REVIEW: %q, re-inspect offered %v", w.decision.Text, w.reinspect.Visible())
	}
	h.ins.review.confirm(verdict.Pass, false)
	h.waitIdle()
	if rows := history(t, store); len(rows) != 1 || !rows[0].OperatorDecision.Is(verdict.Pass) {
		t.Fatalf("alice's PASS not recorded: %+v", rows)
	}
	h.unlockAsSupervisor()
	h.ins.settings.rejectSlider.SetValue(0.55) // the strip would be REJECT now
	if w.decision.Text != "PASS" {
		t.Fatalf("headline %q, want alice's PASS", w.decision.Text)
	}
	if strings.Contains(w.action.Text, "Auto-reject") || !strings.Contains(w.action.Text, "Passed by alice") {
		t.Errorf("a PASS card advises %q", w.action.Text)
	}
	if w.action.Importance != decisionImportance(verdict.Pass) {
		t.Errorf("the advice is coloured as %v, not as the PASS above it", w.action.Importance)
	}
	if !w.reinspect.Visible() || !strings.Contains(w.reinspect.Text, "REJECT") {
		t.Fatalf("re-inspect offered %v (%q) when the current thresholds give REJECT", w.reinspect.Visible(), w.reinspect.Text)
	}
	test.Tap(w.reinspect)
	h.waitIdle()
	rows := history(t, store)
	if len(rows) != 2 {
		t.Fatalf("re-inspecting left %d inspections in the trail, want 2 (a new one)", len(rows))
	}
	if w.decision.Text != "REJECT" || strings.Contains(w.level.Text, "Recorded as") || w.reinspect.Visible() {
		t.Errorf("after re-inspecting: %q, %q, re-inspect still offered %v", w.decision.Text, w.level.Text, w.reinspect.Visible())
	}
	if w.action.Text != verdict.ActionReject {
		t.Errorf("advice %q after re-inspecting", w.action.Text)
	}
}
