package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/station"
)

// TestStationThemeFocus: the station theme's focus highlight is at least
// three times as opaque as Fyne's default on both variants, and every
// other colour is the default's.
func TestStationThemeFocus(t *testing.T) {
	st, def := newStationTheme(), theme.DefaultTheme()
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		_, _, _, a := st.Color(theme.ColorNameFocus, v).RGBA()
		_, _, _, d := def.Color(theme.ColorNameFocus, v).RGBA()
		if a < 3*d {
			t.Errorf("variant %v: focus alpha %d, default %d", v, a>>8, d>>8)
		}
		if st.Color(theme.ColorNamePrimary, v) != def.Color(theme.ColorNamePrimary, v) {
			t.Errorf("variant %v: primary colour changed", v)
		}
	}
}

// fakeLink is a line output with a link that is down until up is set.
type fakeLink struct {
	mu sync.Mutex
	up bool
}

func (f *fakeLink) Run(ctx context.Context) error   { <-ctx.Done(); return nil }
func (f *fakeLink) Drain(ctx context.Context) error { return nil }
func (f *fakeLink) Status() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.up {
		return "MQTT tcp://plc:1883: connected as station line3", true
	}
	return "MQTT tcp://plc:1883: nothing listens there; retrying in 2s", false
}

// TestLineLinkAndSettings: the station's line connection's state shows
// in the status bar (in the warning colour while down), and the station
// hears the model and thresholds in force at start and on every change
// (its outputs' state message says them).
func TestLineLinkAndSettings(t *testing.T) {
	st := station.FromParts(nil, nil, nil)
	link := &fakeLink{}
	if err := st.AddOutput("mqtt", link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.SetLinks(station.Links{}) })
	h := newHarness(t, Options{Station: st})
	if !h.ins.lineFromCommand {
		t.Error("a station started with a link: the window takes it for its own")
	}
	h.waitFor("the link state", func() bool { return h.ins.w.statusLink.Text != "" })
	if l := h.ins.w.statusLink; !l.Visible() || !strings.Contains(l.Text, "retrying") || l.Importance != widget.WarningImportance {
		t.Errorf("link down: %q importance %v", l.Text, l.Importance)
	}
	link.mu.Lock()
	link.up = true
	link.mu.Unlock()
	h.waitFor("the link to come up", func() bool { return strings.Contains(h.ins.w.statusLink.Text, "connected") })
	if l := h.ins.w.statusLink; l.Importance != widget.LowImportance {
		t.Errorf("link up shown in importance %v", l.Importance)
	}
	m, th, set := st.State()
	if !set || m.Name == "" || th != h.ins.settings.Thresholds() {
		t.Fatalf("the station's state at start: %+v %+v %v", m, th, set)
	}
	h.ins.settings.rejectSlider.SetValue(0.7)
	if _, th, _ := st.State(); th.Reject != 0.7 {
		t.Errorf("after the reject slider: %+v", th)
	}
}
