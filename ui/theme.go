package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// stationTheme is Fyne's default theme with a focus highlight that can be
// seen across a control room: the default tints a focused control with
// the primary colour at about 16 % opacity, which vanishes on a bright
// screen, so a keyboard user loses track of where Enter or Space will
// act. Everything else is the default, light or dark as the system asks.
type stationTheme struct{ fyne.Theme }

// focusLight and focusDark are the focus highlight on light and dark
// variants: the theme's blue at about 55 % opacity.
var (
	focusLight = color.NRGBA{R: 0x00, G: 0x6c, B: 0xff, A: 0x8c}
	focusDark  = color.NRGBA{R: 0x4d, G: 0x9a, B: 0xff, A: 0x99}
)

func newStationTheme() fyne.Theme { return stationTheme{theme.DefaultTheme()} }

func (t stationTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameFocus {
		if v == theme.VariantDark {
			return focusDark
		}
		return focusLight
	}
	return t.Theme.Color(n, v)
}
