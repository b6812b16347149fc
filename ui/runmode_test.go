package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// TestRunMode: F11 shows the floor's view: the shown strip's decision in
// a headline a tenth of the window high, the last results as tiles, the
// shift's counts and an alarm for the REJECT until it is acknowledged; the
// menus are gone; leaving takes a supervisor's sign-in.
func TestRunMode(t *testing.T) {
	h, _ := newStation(t)
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "a.png", stripA()), writePNG(t, dir, "b.png", stripB()), writePNG(t, dir, "c.png", stripPass()))
	h.ins.showItem(0) // a.png: REJECT
	h.waitIdle()
	h.unlockAsSupervisor() // makes a supervisor
	h.ins.settings.Lock()
	h.waitIdle()
	setup := h.ins.Window().Content()
	key := h.ins.Window().Canvas().OnTypedKey()
	key(&fyne.KeyEvent{Name: fyne.KeyF11})
	h.waitIdle()
	r := &h.ins.run
	if !r.on || h.ins.Window().Content() == setup || h.ins.Window().MainMenu() != nil {
		t.Fatalf("F11: run mode %v, menus %v", r.on, h.ins.Window().MainMenu() != nil)
	}
	if !strings.HasPrefix(r.headline.Text, "REJECT") || r.headline.TextSize < h.ins.Window().Canvas().Size().Height/10 {
		t.Errorf("headline %q at %.0f px in a %.0f px window", r.headline.Text, r.headline.TextSize, h.ins.Window().Canvas().Size().Height)
	}
	coloured := 0
	for _, o := range r.recent.Objects {
		if o.(*canvas.Rectangle).FillColor != r.recent.Objects[0].(*canvas.Rectangle).FillColor {
			coloured++
		}
	}
	if len(r.recent.Objects) != recentTiles || coloured != 3 {
		t.Errorf("%d tiles, %d coloured, want %d and 3", len(r.recent.Objects), coloured, recentTiles)
	}
	if !strings.Contains(r.counts.Text, "3 strips") {
		t.Errorf("counts %q", r.counts.Text)
	}
	if !strings.Contains(r.alarm.Text, "1 unacknowledged: a.png REJECT") || r.ackBtn.Disabled() {
		t.Errorf("alarm %q (acknowledge enabled %v)", r.alarm.Text, !r.ackBtn.Disabled())
	}
	r.ackBtn.OnTapped()
	if r.alarm.Text != "No alarm" {
		t.Errorf("after acknowledging: %q", r.alarm.Text)
	}
	// leaving asks a supervisor first
	key(&fyne.KeyEvent{Name: fyne.KeyF11})
	h.waitIdle()
	if !r.on || h.ins.topDialog() == nil {
		t.Fatalf("left run mode without a sign-in (dialog %v)", h.ins.topDialog() != nil)
	}
	h.ins.checkUser(supervisorName, supervisorPassword, h.ins.showError, h.ins.leaveRunMode)
	h.waitIdle()
	if r.on || h.ins.Window().Content() != setup || h.ins.Window().MainMenu() == nil {
		t.Errorf("after the sign-in: run mode %v, menus back %v", r.on, h.ins.Window().MainMenu() != nil)
	}
}

// TestStartsInRunMode: a floor station started with --run-mode
// (Options.RunMode) opens in run mode, without menus.
func TestStartsInRunMode(t *testing.T) {
	h := newHarness(t, Options{Station: onTrail(openStore(t)), RunMode: true})
	h.waitIdle()
	if !h.ins.run.on || h.ins.Window().MainMenu() != nil {
		t.Errorf("started with RunMode: run mode %v, menus %v", h.ins.run.on, h.ins.Window().MainMenu() != nil)
	}
}
