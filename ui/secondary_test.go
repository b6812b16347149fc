package ui

import (
	"testing"

	"fyne.io/fyne/v2"
)

// TestSecondaryWindowsFitAndEscCloses: History and Calibrate open no
// larger than the main window (which fits its screen; they opened at a
// fixed 1320×700 and 1240×820, Calibrate's Apply below a 720-px screen's
// edge), and Esc closes History.
func TestSecondaryWindowsFitAndEscCloses(t *testing.T) {
	h, _ := newStation(t)
	h.ins.Window().Resize(fyne.NewSize(1280, 680))
	main := h.ins.Window().Canvas().Size()
	h.ins.showHistory()
	h.waitIdle()
	if h.ins.history == nil {
		t.Fatal("History did not open")
	}
	if s := h.ins.history.win.Canvas().Size(); s.Width > main.Width || s.Height > main.Height {
		t.Errorf("History opened at %v, larger than the main window's %v", s, main)
	}
	h.ins.history.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.waitIdle()
	if h.ins.history != nil {
		t.Error("Esc did not close History")
	}
	h.ins.showCalibrate()
	h.waitIdle()
	if h.ins.calibrate == nil {
		t.Fatal("Calibrate did not open")
	}
	if s := h.ins.calibrate.win.Canvas().Size(); s.Width > main.Width || s.Height > main.Height {
		t.Errorf("Calibrate opened at %v, larger than the main window's %v", s, main)
	}
}
