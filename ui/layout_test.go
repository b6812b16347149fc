package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestListOverPanelMeasuresTheWrappedCount: the Processed column's count
// wraps (the shift's summary is long at 1280×720), and the list below it
// starts under its last line. Measured before the label had its width, the
// top was one line high and the list covered the shift's counts.
func TestListOverPanelMeasuresTheWrappedCount(t *testing.T) {
	test.NewTempApp(t)
	count := widget.NewLabel("None loaded yet")
	count.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(widget.NewLabel("Processed"), count)
	list := widget.NewLabel("row")
	panel := widget.NewLabel("model")
	l := &listOverPanel{panelContent: panel}
	objs := []fyne.CanvasObject{top, list, panel}
	l.Layout(objs, fyne.NewSize(240, 600))
	// the strips come: the count grows to the shift's summary, and the
	// column is laid out again at the same size
	count.SetText("2 images · ←/→ to browse\n" + strings.Repeat("Shift: 2 strips · 0 PASS · 2 REVIEW · 0 REJECT ", 2) +
		"\n2 waiting for review · rate after 15 min")
	l.Layout(objs, fyne.NewSize(240, 600))
	bottom := count.Position().Y + count.Size().Height
	if lines := count.MinSize().Height / widget.NewLabel("x").MinSize().Height; lines < 3 {
		t.Fatalf("the count should wrap to several lines at 240 px, measures %.1f", lines)
	}
	if list.Position().Y < bottom {
		t.Errorf("the list starts at y=%.0f, over the count, which ends at y=%.0f", list.Position().Y, bottom)
	}
}
