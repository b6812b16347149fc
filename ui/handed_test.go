package ui

import (
	"slices"
	"testing"

	"steelinspect/station"
)

// TestTheWindowRunsOnItsStation: the window is handed the station, not
// loose pieces: the pair it decides with is the station's own (Fix), set
// at start and moved with the sliders, and a strip opened in it is
// recorded in the station's trail with that pair.
func TestTheWindowRunsOnItsStation(t *testing.T) {
	store := openStore(t)
	st := station.FromParts(store, nil, nil)
	h := newHarness(t, Options{Station: st})
	h.ins.review.setOperator("alice")
	if own, fixed := st.Own(); !fixed || own != h.ins.settings.Thresholds() {
		t.Fatalf("the station's own pair %+v (fixed %v), the window's %+v", own, fixed, h.ins.settings.Thresholds())
	}
	h.unlockAsSupervisor()
	h.ins.settings.rejectSlider.SetValue(0.7)
	h.waitIdle()
	if own, _ := st.Own(); own.Reject != 0.7 {
		t.Fatalf("after the reject slider the station decides with %+v", own)
	}
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	rows := history(t, store)
	if len(rows) != 1 || rows[0].RejectThreshold != 0.7 {
		t.Fatalf("the record: %+v", rows)
	}
}

// TestLineConnectionRunsOnTheStation: the line connection set in the
// window runs as the station's outputs (it was the window's own
// publisher, which the station, its drain and its link state knew
// nothing of), is replaced and stopped through it, and stops with the
// window.
func TestLineConnectionRunsOnTheStation(t *testing.T) {
	st := station.FromParts(openStore(t), nil, nil)
	h := newHarness(t, Options{Station: st})
	h.ins.review.setOperator("alice")
	h.unlockAsSupervisor()
	h.ins.applyLineSettings(lineConfig{url: "tcp://127.0.0.1:1", station: "line3"})
	if got := st.Outputs(); !slices.Equal(got, []string{"mqtt"}) || len(h.ins.errorsShown) != 0 {
		t.Fatalf("the station's outputs %v, errors %q", got, h.ins.errorsShown)
	}
	if s, up := st.LinkStatus(); up || s == "" {
		t.Errorf("the station's link: %q up %v", s, up)
	}
	h.ins.showLinkStatus()
	if s, _ := st.LinkStatus(); !h.ins.w.statusLink.Visible() || h.ins.w.statusLink.Text != s {
		t.Errorf("status bar %q visible %v", h.ins.w.statusLink.Text, h.ins.w.statusLink.Visible())
	}
	h.ins.applyLineSettings(lineConfig{url: "gopher://x", station: "line3"})
	if got := st.Outputs(); !slices.Equal(got, []string{"mqtt"}) || len(h.ins.errorsShown) != 1 {
		t.Errorf("a setting that does not work: outputs %v, errors %q", got, h.ins.errorsShown)
	}
	h.ins.applyLineSettings(lineConfig{})
	if st.HasLinks() {
		t.Errorf("line connection off: the station still runs %v", st.Outputs())
	}
	h.ins.applyLineSettings(lineConfig{url: "tcp://127.0.0.1:1", station: "line3"})
	h.ins.Close()
	if st.HasLinks() {
		t.Errorf("the window closed: the station still runs %v", st.Outputs())
	}
}
