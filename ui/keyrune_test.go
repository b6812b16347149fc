package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"

	"steelinspect/audit"
)

// TestKeyDoesNotTypeIntoTheSignIn: with nobody on shift, P opens the
// sign-in, and the letter the same key types does not land in its name
// box (P used to start a shift under the name "p").
func TestKeyDoesNotTypeIntoTheSignIn(t *testing.T) {
	store := openStore(t)
	if err := store.AddUser(context.Background(), "test", "olga", audit.RoleOperator, "olga-pw-1"); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: onTrail(store)})
	h.waitIdle()
	canvas := h.ins.Window().Canvas()
	canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // no sign-in at start
	h.waitIdle()
	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB())) // REVIEW
	if h.ins.review.operator != "" {
		t.Fatalf("operator %q", h.ins.review.operator)
	}
	// the driver delivers the key, then its letter to whatever has the focus
	canvas.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyP})
	if f := canvas.Focused(); f != nil {
		f.TypedRune('p')
	}
	h.waitIdle()
	name, ok := canvas.Focused().(*dialogEntry)
	if !ok || h.ins.topDialog() == nil {
		t.Fatalf("P with nobody on shift: no sign-in asked (focus %T)", canvas.Focused())
	}
	if name.Text != "" {
		t.Errorf("the key's letter typed into the sign-in: %q", name.Text)
	}
}
