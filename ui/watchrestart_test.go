package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"steelinspect/hotfolder"
	"steelinspect/verdict"
)

// watchedStation is a station with a trail watching a fresh folder, its
// operator on shift, no sound.
func watchedStation(t *testing.T, h *harness, operator string) string {
	t.Helper()
	h.ins.review.setOperator(operator)
	h.ins.watch.play = func(verdict.Decision) error { return nil }
	dir := t.TempDir()
	h.ins.watch.start(dir)
	return dir
}

// TestWatchReviewSurvivesRestart: a REVIEW the watched folder filed in
// REVIEW/ comes back to the review queue after the window starts again,
// at its path in REVIEW/, and the folder is watched again; the
// operator's P then moves the file to PASS/, recorded in the trail by
// them; Stop watching means the next start does not watch.
func TestWatchReviewSurvivesRestart(t *testing.T) {
	store := openStore(t)
	app := test.NewTempApp(t)
	h := newHarnessOn(t, app, Options{Station: onTrail(store)})
	dir := watchedStation(t, h, "alice")
	writePNG(t, dir, "b.png", stripB()) // REVIEW
	h.waitFor("the REVIEW strip to arrive", func() bool { return len(h.ins.processed.items) == 1 })
	h.waitIdle()
	inReview := filepath.Join(dir, "REVIEW", "b.png")
	if _, err := os.Stat(inReview); err != nil || !h.ins.processed.items[0].needsReview() {
		t.Fatalf("the strip is not waiting in REVIEW/: %v, %+v", err, h.ins.processed.items[0])
	}
	h.ins.Close() // the window closes while watching

	h2 := newHarnessOn(t, app, Options{Station: onTrail(store)})
	if got, on := h2.ins.watch.watching(); !on || got != dir {
		t.Fatalf("after the restart the window watches %q (%v), want %s", got, on, dir)
	}
	h2.waitFor("the review queue to come back", func() bool { return len(h2.ins.processed.items) == 1 })
	it := h2.ins.processed.items[0]
	if it.path != inReview || !it.needsReview() || h2.ins.reviewCount() != 1 {
		t.Fatalf("restored strip: path %q, waiting %v, queue %d", it.path, it.needsReview(), h2.ins.reviewCount())
	}
	// watching goes on: a strip dropped now is scored and filed
	writePNG(t, dir, "a.png", stripA()) // REJECT
	h2.waitFor("a new strip to arrive", func() bool { return len(h2.ins.processed.items) == 2 })
	h2.waitIdle()

	h2.ins.review.setOperator("bob")
	h2.ins.showItem(0)
	h2.waitIdle()
	h2.ins.review.confirm(verdict.Pass, false)
	h2.waitIdle()
	passed := filepath.Join(dir, "PASS", "b.png")
	if _, err := os.Stat(passed); err != nil {
		t.Fatalf("P left the file where it was: %v", err)
	}
	if _, err := os.Stat(inReview); !os.IsNotExist(err) {
		t.Errorf("the file is still in REVIEW/: %v", err)
	}
	if it.path != passed || !strings.Contains(h2.ins.w.status.Text, "b.png moved to PASS/b.png") {
		t.Errorf("the window follows it: path %q, status %q", it.path, h2.ins.w.status.Text)
	}
	moves, err := store.Moves(context.Background(), it.auditID)
	if err != nil || len(moves) != 2 || moves[0].MovedBy != hotfolder.MovedByHotFolder || moves[1].MovedBy != "bob" ||
		moves[1].From != inReview || moves[1].To != passed {
		t.Errorf("the trail's moves: %+v %v", moves, err)
	}

	h2.ins.watch.toggle() // Stop watching
	h2.ins.Close()
	h3 := newHarnessOn(t, app, Options{Station: onTrail(store)})
	if got, on := h3.ins.watch.watching(); on {
		t.Errorf("watching %s again after Stop watching", got)
	}
}

// TestDecisionOnVanishedWatchStrip: a strip whose file left REVIEW/
// before the operator decided keeps the decision; the move is skipped
// and the window and the trail say so in one line, no error.
func TestDecisionOnVanishedWatchStrip(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, Options{Station: onTrail(store)})
	dir := watchedStation(t, h, "alice")
	defer h.ins.watch.stop()
	writePNG(t, dir, "b.png", stripB()) // REVIEW
	h.waitFor("the REVIEW strip to arrive", func() bool { return len(h.ins.processed.items) == 1 })
	h.waitIdle()
	h.ins.showItem(0)
	h.waitIdle()
	// someone takes it out of REVIEW/ while the operator looks at it
	if err := os.Remove(filepath.Join(dir, "REVIEW", "b.png")); err != nil {
		t.Fatal(err)
	}
	h.ins.review.confirm(verdict.Reject, false)
	h.waitIdle()
	rows := history(t, store)
	want := "b.png was not moved to REJECT/: it is no longer in REVIEW/ (the decision is recorded)"
	if len(rows) != 1 || rows[0].FinalDecision() != verdict.Reject || rows[0].Operator != "alice" || rows[0].FileNote != want {
		t.Fatalf("the trail: %+v", rows)
	}
	if s := h.ins.w.status.Text; s != "Hot folder: "+want {
		t.Errorf("status %q", s)
	}
	if b := h.ins.watch.banner.Text; b != "Hot folder: "+want {
		t.Errorf("banner %q", b)
	}
	if len(h.ins.errorsShown) != 0 {
		t.Errorf("errors shown: %q", h.ins.errorsShown)
	}
	if h.ins.processed.items[0].review == nil || h.ins.processed.items[0].review.decision != verdict.Reject {
		t.Errorf("the decision is not shown: %+v", h.ins.processed.items[0].review)
	}
}
