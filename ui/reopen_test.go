package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
)

// askedAgain checks that the window asks about strips opened again,
// naming want, and that nothing was inspected or recorded meanwhile.
func askedAgain(t *testing.T, h *harness, want string, calls int64, rows int) *reinspectAsk {
	t.Helper()
	q := h.ins.reinspectQ
	if q == nil || h.ins.topDialog() == nil {
		t.Fatalf("no question about strips opened again (messages %q)", h.ins.messagesShown)
	}
	if last := h.ins.messagesShown[len(h.ins.messagesShown)-1]; !strings.Contains(last, want) {
		t.Errorf("the question says %q, want %q", last, want)
	}
	if n := h.model.calls.Load(); n != calls {
		t.Errorf("%d strips scored before the answer", n-calls)
	}
	if n := len(history(t, h.ins.store)); n != rows {
		t.Errorf("%d inspections in the trail before the answer, want %d", n, rows)
	}
	return q
}

// TestOpeningTheSameStripAgainAsks: a strip opened again is not inspected
// behind the operator's back; Skip (Enter) records nothing and shows the
// strip as it stands, Re-inspect records one more inspection in the same
// row.
func TestOpeningTheSameStripAgainAsks(t *testing.T) {
	h, store := newStation(t)
	a := writePNG(t, t.TempDir(), "b.png", stripB()) // REVIEW
	h.openPaths(a)
	if n := len(history(t, store)); n != 1 || h.ins.reinspectQ != nil {
		t.Fatalf("first opening: %d inspections, question %v", n, h.ins.reinspectQ != nil)
	}
	first := h.ins.processed.items[0].auditID

	h.openPaths(a)
	askedAgain(t, h, "b.png was inspected already", h.model.calls.Load(), 1)
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Skip
	h.waitIdle()
	if n := len(history(t, store)); n != 1 {
		t.Errorf("Skip recorded %d inspections, want none (1 in all)", n-1)
	}
	if len(h.ins.processed.items) != 1 || h.ins.processed.items[0].auditID != first || h.ins.current != 0 {
		t.Errorf("after Skip: %d rows, audit id %d (want %d), shown %d", len(h.ins.processed.items), h.ins.processed.items[0].auditID, first, h.ins.current)
	}
	if !strings.Contains(h.ins.w.status.Text, "not inspected again") || h.ins.topDialog() != nil {
		t.Errorf("after Skip: status %q, dialog open %v", h.ins.w.status.Text, h.ins.topDialog() != nil)
	}

	h.openPaths(a)
	q := askedAgain(t, h, "b.png was inspected already", h.model.calls.Load(), 1)
	test.Tap(q.reinspect)
	h.waitIdle()
	rows := history(t, store)
	if len(rows) != 2 {
		t.Fatalf("Re-inspect: %d inspections in the trail, want 2", len(rows))
	}
	if len(h.ins.processed.items) != 1 || h.ins.processed.items[0].auditID == first || h.ins.processed.items[0].auditID != rows[1].ID {
		t.Errorf("Re-inspect: %d rows, audit id %d (first %d, newest %d)", len(h.ins.processed.items), h.ins.processed.items[0].auditID, first, rows[1].ID)
	}
	if h.ins.reviewCount() != 1 {
		t.Errorf("%d strips wait for review, want 1", h.ins.reviewCount())
	}
}

// TestSameContentUnderAnotherNameIsTheSameStrip: a copy of a strip under
// a new name is the same strip: a folder holding it and new strips asks
// once for the batch; Skip inspects only the new ones, Re-inspect keeps
// one row for the strip, under its new name.
func TestSameContentUnderAnotherNameIsTheSameStrip(t *testing.T) {
	h, store := newStation(t)
	first := writePNG(t, t.TempDir(), "a.png", stripA())
	h.openPaths(first)

	dir := t.TempDir()
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy-of-a.png"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	writePNG(t, dir, "new-pass.png", stripPass())
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(dir)})
	h.waitIdle()
	askedAgain(t, h, "1 of the 2 strips were inspected already", h.model.calls.Load(), 1)
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Skip
	h.waitIdle()
	if n := len(history(t, store)); n != 2 || len(h.ins.processed.items) != 2 {
		t.Fatalf("Skip: %d inspections (want 2: the new strip only), %d rows (want 2)", n, len(h.ins.processed.items))
	}
	if h.ins.processed.items[1].name != "new-pass.png" {
		t.Errorf("the new strip's row is %q", h.ins.processed.items[1].name)
	}

	copyOf := filepath.Join(dir, "copy-of-a.png")
	h.openPaths(copyOf)
	q := askedAgain(t, h, "copy-of-a.png was inspected already (same content as a.png", h.model.calls.Load(), 2)
	test.Tap(q.reinspect)
	h.waitIdle()
	rows := history(t, store)
	if len(rows) != 3 {
		t.Fatalf("Re-inspect: %d inspections, want 3", len(rows))
	}
	if len(h.ins.processed.items) != 2 || h.ins.processed.items[0].path != copyOf || h.ins.processed.items[0].auditID != rows[2].ID {
		t.Errorf("Re-inspect: %d rows, first %s (audit id %d), want one row for the strip at %s",
			len(h.ins.processed.items), h.ins.processed.items[0].path, h.ins.processed.items[0].auditID, copyOf)
	}
}

// TestStripRestoredFromTheTrailIsKnown: a strip restored from the trail at
// start is known too: opening its file again asks, and Cancel opens nothing.
func TestStripRestoredFromTheTrailIsKnown(t *testing.T) {
	store := openStore(t)
	a := writePNG(t, t.TempDir(), "b.png", stripB()) // REVIEW
	h := newHarness(t, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	h.openPaths(a)
	h.ins.Close()

	again := newHarness(t, Options{Station: onTrail(store), Paths: []string{a}})
	q := askedAgain(t, again, "b.png was inspected already", again.model.calls.Load(), 1)
	if len(again.ins.processed.items) != 1 || again.ins.processed.items[0].auditID == 0 {
		t.Fatalf("restored %d rows", len(again.ins.processed.items))
	}
	test.Tap(q.cancel)
	again.waitIdle()
	if n := len(history(t, store)); n != 1 || len(again.ins.processed.items) != 1 || again.ins.reviewCount() != 1 {
		t.Errorf("after Cancel: %d inspections, %d rows, %d waiting for review; want 1, 1, 1",
			n, len(again.ins.processed.items), again.ins.reviewCount())
	}
}

// TestScreenshotRunPicturesTheQuestion: a --screenshot run whose strip
// the shift holds already takes its picture with the question showing
// and quits, instead of waiting for an answer nobody gives (the smoke
// test's second window hung until its 30-minute limit).
func TestScreenshotRunPicturesTheQuestion(t *testing.T) {
	store := openStore(t)
	a := writePNG(t, t.TempDir(), "b.png", stripB())
	h := newHarness(t, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	h.openPaths(a)
	h.ins.Close()

	again := newHarness(t, Options{Station: onTrail(store), Paths: []string{a}, Screenshot: filepath.Join(t.TempDir(), "shot.png")})
	askedAgain(t, again, "b.png was inspected already", again.model.calls.Load(), 1)
	if !again.ins.shotTaken {
		t.Error("the screenshot run waits on the question and never takes its picture")
	}
}
