package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"steelinspect/teach"
	"steelinspect/verdict"
)

// TestColumnsGiveWayOnANarrowScreen: on a screen too narrow for the three
// columns, the settings column folds behind a tab first, then the
// Processed list; a tab opens its column over the centre; the window then
// asks for no more than the centre and the tabs.
func TestColumnsGiveWayOnANarrowScreen(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	win := h.ins.Window()
	content := win.Content()
	body := h.ins.w.body
	var bodyBox *fyne.Container
	for _, o := range test.LaidOutObjects(content) {
		if c, ok := o.(*fyne.Container); ok && c.Layout == body {
			bodyBox = c
		}
	}
	if bodyBox == nil {
		t.Fatal("no folding body in the window")
	}
	at := func(width float32) {
		t.Helper()
		win.Resize(fyne.NewSize(width, 720))
		content.Refresh()
		bodyBox.Refresh()
	}
	leftTab := bodyBox.Objects[bodyLeftTab].(*widget.Button)

	at(1400)
	if body.leftFolded || body.rightFolded || leftTab.Visible() || !h.ins.w.sidebar.Visible() {
		t.Fatalf("at 1400 px: folded %v/%v, tab shown %v", body.leftFolded, body.rightFolded, leftTab.Visible())
	}
	at(800)
	if !body.leftFolded || body.rightFolded {
		t.Fatalf("at 800 px: settings folded %v, list folded %v; want the settings column first", body.leftFolded, body.rightFolded)
	}
	if bodyBox.Objects[bodyLeft].Visible() || !leftTab.Visible() {
		t.Errorf("at 800 px the settings column is shown %v, its tab %v", bodyBox.Objects[bodyLeft].Visible(), leftTab.Visible())
	}
	test.Tap(leftTab)
	if !bodyBox.Objects[bodyLeft].Visible() {
		t.Error("the settings tab does not open the column")
	}
	if p := bodyBox.Objects[bodyLeft].Position(); p.X != leftTab.Size().Width {
		t.Errorf("the opened column is at x=%v, want beside its tab (%v)", p.X, leftTab.Size().Width)
	}
	test.Tap(leftTab)
	if bodyBox.Objects[bodyLeft].Visible() {
		t.Error("tapping the tab again does not fold the column")
	}
	at(500)
	if !body.leftFolded || !body.rightFolded {
		t.Errorf("at 500 px: settings folded %v, list folded %v; want both", body.leftFolded, body.rightFolded)
	}
	if w := bodyBox.MinSize().Width; w > 600 {
		t.Errorf("the columns ask for %.0f px wide; folded, they need only the centre and the tabs", w)
	}
	// the toolbar's buttons are then the widest part: the window fits a
	// 1024-px panel PC (it asked for 945 px with the columns side by side)
	if w := content.MinSize().Width; w > 1024 {
		t.Errorf("the window asks for %.0f px wide, more than a 1024-px screen", w)
	}
}

// TestProcessedListKeepsItsRowsAt720: at 1280×720 the Processed list keeps
// rows to see under the model panel, which scrolls instead (it was left a
// sliver: one strip's row cut in half).
func TestProcessedListKeepsItsRowsAt720(t *testing.T) {
	// the model panel as the real window has it: Open model…, Teach good
	// steel… and Learn from decisions… under its text
	h := newHarness(t, Options{OpenModel: func(path string) (Analyzer, error) { return openCounting(t, path), nil },
		ModelsDir: t.TempDir(), Teach: func(context.Context, string, string, func(teach.Progress)) (*teach.Result, error) { return nil, nil },
		Learn: func(context.Context, string, func(teach.Progress)) (*teach.Result, []string, error) {
			return nil, nil, nil
		},
		Decided: func(context.Context) (map[verdict.Decision]int, error) { return nil, nil }})
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "a.png", stripA()), writePNG(t, dir, "b.png", stripB()))
	win := h.ins.Window()
	win.Resize(fyne.NewSize(1264, 656)) // a 1280×720 screen less the window's frame and menu bar
	win.Content().Refresh()
	if got := h.ins.processed.list.Size().Height; got < listMinHeight {
		t.Errorf("the Processed list is %.0f px tall at 1280×720, want at least %d (rows to see)", got, listMinHeight)
	}
	if w := win.Content().MinSize(); w.Height > 656 {
		t.Errorf("the window asks for %.0f px tall", w.Height)
	}
}
