package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"steelinspect/verdict"
)

// pickerTile finds the tile of the shown picker that reads name (Fyne's
// grid view drops the extension), looking into widgets' rendered parts.
func pickerTile(t *testing.T, h *harness, name string) fyne.Tappable {
	t.Helper()
	var found fyne.Tappable
	var walk func(o fyne.CanvasObject, tile fyne.Tappable)
	walk = func(o fyne.CanvasObject, tile fyne.Tappable) {
		if found != nil || o == nil {
			return
		}
		if l, ok := o.(*widget.Label); ok && l.Text == name && tile != nil {
			found = tile
			return
		}
		if tp, ok := o.(fyne.Tappable); ok {
			if _, button := o.(*widget.Button); !button {
				tile = tp
			}
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c, tile)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c, tile)
			}
		}
	}
	walk(h.ins.Window().Canvas().Overlays().Top(), nil)
	if found == nil {
		t.Fatalf("the picker shows no tile %q", name)
	}
	return found
}

// TestDoubleClickOnAFolderOpensNoStrip: in Open image…, the second click
// of a double-click on a folder lands on whatever the folder lists under
// the pointer; it is not taken as a pick (nothing is inspected or
// recorded), the picker shows that folder again, and a strip picked there
// and confirmed with Enter opens.
func TestDoubleClickOnAFolderOpensNoStrip(t *testing.T) {
	h, store := newStation(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, sub, "strip.png", stripA())
	h.app.Preferences().SetString(prefLastDir, dir)
	if got := h.ins.w.openBtn.Text; got != "Open image…" {
		t.Errorf("the button says %q: it picks one image", got)
	}

	h.ins.showOpenDialog()
	time.Sleep(600 * time.Millisecond) // the user finds the folder
	tile := pickerTile(t, h, "sub")
	test.Tap(tile) // first click: the picker opens sub
	if got := h.app.Preferences().String(pickerFolderKey); got != storage.NewFileURI(sub).String() {
		t.Fatalf("the picker shows %s after a click on sub", got)
	}
	if pickerTile(t, h, "strip") != tile {
		t.Skip("the picker did not reuse the tile under the pointer: the trap cannot be played here")
	}
	test.Tap(tile) // second click, on the same tile, now strip.png
	h.waitIdle()
	if n := len(history(t, store)); n != 0 || len(h.ins.processed.items) != 0 {
		t.Fatalf("the double-click on a folder inspected %d strip(s), recorded %d", len(h.ins.processed.items), n)
	}
	if h.ins.topDialog() == nil || !strings.Contains(h.ins.w.status.Text, "Opened the folder "+sub) {
		t.Fatalf("no picker shown again in sub (status %q)", h.ins.w.status.Text)
	}

	time.Sleep(600 * time.Millisecond) // the user looks, picks strip.png, presses Enter
	test.Tap(pickerTile(t, h, "strip"))
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitIdle()
	if n := len(history(t, store)); n != 1 || len(h.ins.processed.items) != 1 || h.ins.processed.items[0].name != "strip.png" {
		t.Fatalf("Enter in the picker: %d strips, %d recorded; want strip.png", len(h.ins.processed.items), n)
	}
	if h.ins.topDialog() != nil {
		t.Error("the picker stays open after Enter")
	}
}

// TestWatchFolderOpensAwayFromTheTeachSet: Watch folder… opens in the
// home folder, not in the folder last used to open or teach strips (its
// files would be moved), and after a watch in the folder last watched.
func TestWatchFolderOpensAwayFromTheTeachSet(t *testing.T) {
	h, _ := newStation(t)
	teachSet, watched := t.TempDir(), t.TempDir()
	h.app.Preferences().SetString(prefLastDir, teachSet)
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home folder")
	}
	shown := func() string { return h.app.Preferences().String(pickerFolderKey) }

	h.ins.watch.toggle()
	if shown() != storage.NewFileURI(home).String() {
		t.Errorf("Watch folder… opened in %s, want the home folder %s", shown(), home)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})

	h.ins.watch.play = func(verdict.Decision) error { return nil }
	h.ins.watch.start(watched)
	h.ins.watch.toggle() // stop watching
	h.waitIdle()
	h.ins.watch.toggle()
	if shown() != storage.NewFileURI(watched).String() {
		t.Errorf("Watch folder… opened in %s, want the folder last watched %s", shown(), watched)
	}
}
