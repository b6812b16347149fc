package ui

import (
	"context"
	"steelinspect/verdict"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestDialogKeys: Enter confirms and Esc cancels the station's dialogs,
// and no key acts on the strip behind an open dialog (issue 17).
func TestDialogKeys(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, Options{Station: onTrail(store)})
	canvas := h.ins.Window().Canvas()

	// The operator prompt opens on start with its entry focused: typing a
	// name and Enter starts the shift.
	entry, ok := canvas.Focused().(*dialogEntry)
	if !ok || h.ins.topDialog() == nil {
		t.Fatalf("no operator prompt with a focused entry at start (focused %T)", canvas.Focused())
	}
	test.Type(entry, "bob")
	entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.ins.review.operator != "bob" || h.ins.topDialog() != nil {
		t.Fatalf("after Enter: operator %q, dialog open %v", h.ins.review.operator, h.ins.topDialog() != nil)
	}

	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB())) // REVIEW
	key := canvas.OnTypedKey()

	// P under an open dialog does not decide the strip behind it; Esc
	// closes the dialog.
	h.ins.showError("Something", "went wrong")
	key(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	if r := history(t, store)[0]; !r.OperatorDecision.IsZero() {
		t.Fatalf("P under an error dialog recorded %s", r.OperatorDecision)
	}
	key(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ins.topDialog() != nil || canvas.Overlays().Top() != nil {
		t.Fatal("Esc did not close the error dialog")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	if r := history(t, store)[0]; !r.OperatorDecision.Is(verdict.Pass) || r.Operator != "bob" {
		t.Fatalf("P with no dialog open: row %+v", r)
	}

	// Esc typed into the override's reason box cancels the override.
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA())) // REJECT
	h.ins.review.askOverride(true)
	reason, ok := canvas.Focused().(*dialogEntry)
	if !ok {
		t.Fatalf("override reason not focused: %T", canvas.Focused())
	}
	test.Type(reason, "paint")
	reason.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.waitIdle()
	if h.ins.topDialog() != nil || !history(t, store)[1].OperatorDecision.IsZero() {
		t.Errorf("Esc in the reason box: dialog open %v, row %+v", h.ins.topDialog() != nil, history(t, store)[1])
	}
}

// TestUndoLastDecision: Ctrl+Z takes back the last P/R made in the window;
// the trail keeps the decision and its undo, and the strip waits again.
func TestUndoLastDecision(t *testing.T) {
	h, store := newStation(t)
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "b.png", stripB()), writePNG(t, dir, "c.png", stripPass())) // REVIEW, PASS
	h.ins.showItem(0)
	h.waitIdle()
	canvas := h.ins.Window().Canvas()
	canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyR})
	h.waitIdle()
	if r := history(t, store)[0]; !r.OperatorDecision.Is(verdict.Reject) || h.ins.reviewCount() != 0 {
		t.Fatalf("after R: %+v, %d pending", r, h.ins.reviewCount())
	}
	h.ins.showItem(1) // the operator moved on
	h.waitIdle()
	// Ctrl+Z reaches the window as the toolkit's Undo shortcut, not as our own
	canvas.(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(&fyne.ShortcutUndo{})
	h.waitIdle()
	r := history(t, store)[0]
	if !r.OperatorDecision.IsZero() || h.ins.reviewCount() != 1 || h.ins.current != 0 || h.ins.card.decision.Text != "REVIEW" {
		t.Fatalf("after Ctrl+Z: row %+v, %d pending, showing %d, card %q; want the undone strip shown", r, h.ins.reviewCount(), h.ins.current, h.ins.card.decision.Text)
	}
	events, err := store.Decisions(context.Background(), r.ID)
	if err != nil || len(events) != 2 || !events[0].Decision.Is(verdict.Reject) || events[1].Kind != "undo" {
		t.Errorf("decisions kept: %+v, %v", events, err)
	}
	h.ins.review.undoLast() // nothing left to undo
	h.waitIdle()
	if !strings.Contains(h.ins.w.status.Text, "Nothing to undo") {
		t.Errorf("status %q", h.ins.w.status.Text)
	}
}

// TestWatchWarnsAndQuitAsks: choosing a folder to watch says its files
// will be moved before anything starts; quitting while watching asks.
func TestWatchWarnsAndQuitAsks(t *testing.T) {
	h, _ := newStation(t)
	dir := t.TempDir()
	key := h.ins.Window().Canvas().OnTypedKey()
	h.ins.watch.confirm(dir)
	if h.ins.watch.run != nil || h.ins.topDialog() == nil {
		t.Fatal("watching started before the move warning was answered")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitIdle()
	if h.ins.watch.run == nil || h.ins.watch.run.dir != dir {
		t.Fatal("Enter on the warning did not start watching")
	}
	h.ins.confirmQuit()
	if h.ins.topDialog() == nil {
		t.Fatal("quitting while watching did not ask")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ins.watch.run == nil || h.ins.topDialog() != nil {
		t.Error("Esc on the quit question stopped watching or left the dialog open")
	}
	h.ins.watch.toggle()
	h.waitIdle()
}
