package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
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
