package ui

import (
	"steelinspect/inference"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
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

// TestLineLinkAndSettings: the line connection's state shows in the
// status bar (in the warning colour while down), and the model and
// thresholds in force are reported at start and on every change.
func TestLineLinkAndSettings(t *testing.T) {
	var mu sync.Mutex
	var got []inference.Thresholds
	up := false
	h := newHarness(t, Options{
		OnSettings: func(m inference.ModelIdentity, th inference.Thresholds) {
			if m.Name == "" {
				t.Error("settings reported without a model")
			}
			got = append(got, th)
		},
		LinkStatus: func() (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			if up {
				return "MQTT tcp://plc:1883: connected as station line3", true
			}
			return "MQTT tcp://plc:1883: nothing listens there; retrying in 2s", false
		},
	})
	h.waitFor("the link state", func() bool { return h.ins.w.statusLink.Text != "" })
	if l := h.ins.w.statusLink; !l.Visible() || !strings.Contains(l.Text, "retrying") || l.Importance != widget.WarningImportance {
		t.Errorf("link down: %q importance %v", l.Text, l.Importance)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	h.waitFor("the link to come up", func() bool { return strings.Contains(h.ins.w.statusLink.Text, "connected") })
	if l := h.ins.w.statusLink; l.Importance != widget.LowImportance {
		t.Errorf("link up shown in importance %v", l.Importance)
	}
	if len(got) != 1 {
		t.Fatalf("settings reported %d times at start", len(got))
	}
	h.ins.settings.rejectSlider.SetValue(0.7)
	if last := got[len(got)-1]; last.Reject != 0.7 {
		t.Errorf("after the reject slider: %+v", last)
	}
}
