package ui

import (
	"image"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// TestPatchZoom: a click on a patch opens it at 1:1 with the overlay, 2×
// doubles it, the overlay can be turned off; a table row outlines its
// patch on the strip (issue 17).
func TestPatchZoom(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	v := h.ins.strip.view
	a := h.ins.currentAnalysis()
	k := len(a.Patches) - 1
	p := a.Patches[k]
	pos, sz := v.imageRect(v.Size())
	if sz.Width <= 0 {
		t.Fatal("strip not laid out")
	}
	at := fyne.NewPos(pos.X+float32(p.X+p.W-10)/float32(a.Image.Width)*sz.Width, pos.Y+sz.Height/2)
	v.Tapped(&fyne.PointEvent{Position: at})
	z := h.ins.strip.zoom
	if z == nil || z.patch != k {
		t.Fatalf("clicking patch %d opened %+v", k, z)
	}
	size := func() image.Point { return z.image.Image.Bounds().Size() }
	if got := size(); got != (image.Point{X: p.W, Y: p.H}) {
		t.Fatalf("zoom shows %v, want the patch at 1:1 (%d×%d)", got, p.W, p.H)
	}
	withOverlay := z.image.Image.At(p.W/2, p.H/2)
	z.double.SetChecked(true)
	if got := size(); got != (image.Point{X: 2 * p.W, Y: 2 * p.H}) {
		t.Errorf("2× shows %v", got)
	}
	z.double.SetChecked(false)
	z.overlay.SetChecked(false)
	if z.image.Image.At(p.W/2, p.H/2) == withOverlay {
		t.Error("turning the overlay off did not change the picture")
	}
	// Esc closes it
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ins.strip.zoom != nil {
		t.Error("Esc did not close the patch view")
	}

	// a table row outlines its patch
	h.ins.strip.table.Select(widget.TableCellID{Row: 0, Col: 1})
	if v.hovered != h.ins.strip.tableOrder[0] || v.highlight.Hidden {
		t.Errorf("row 0 selected: strip outlines patch %d (hidden %v), want %d", v.hovered, v.highlight.Hidden, h.ins.strip.tableOrder[0])
	}

	// a patch under the pointer marks its row, and only its row
	last := len(h.ins.strip.tableOrder) - 1
	v.setHovered(h.ins.strip.tableOrder[last])
	for row := range h.ins.strip.tableOrder {
		l := widget.NewLabel("")
		h.ins.strip.updatePatchCell(widget.TableCellID{Row: row, Col: colIndex}, l)
		if (l.Importance == widget.HighImportance) != (row == last) || strings.HasPrefix(l.Text, "▶") != (row == last) {
			t.Errorf("row %d of %d with the last row's patch hovered: %q importance %v", row, last, l.Text, l.Importance)
		}
	}
}

// TestModelPanelAndDetails: the panel shows the model at a glance (name,
// hash, variant, real-steel line); its whole provenance is in Details….
func TestModelPanelAndDetails(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.ins.models
	if !strings.Contains(p.desc.Text, "Not measured on real steel") || strings.Contains(p.desc.Text, "Trained on") {
		t.Errorf("panel text %q", p.desc.Text)
	}
	if strings.Contains(p.desc.Text, passesNothingText) {
		t.Errorf("a model with no held-out figures is said to pass nothing: %q", p.desc.Text)
	}
	h.ins.showModelDetails()
	if h.ins.topDialog() == nil || !strings.Contains(h.ins.models.details, "Trained on: ") || !strings.Contains(h.ins.models.details, "Source: ") {
		t.Errorf("details %q (dialog open %v)", h.ins.models.details, h.ins.topDialog() != nil)
	}

	// a model whose held-out figures show it passes nothing at its default
	// thresholds: the panel says what to expect and what can change it
	none := *p.manifest
	none.Provenance.Metrics = map[string]any{"confusion_at_pass": map[string]any{"tn": 0.0, "fp": 578.0, "tp": 142.0, "fn": 0.0}}
	p.manifest = &none
	p.refresh()
	if !strings.Contains(p.desc.Text, "passed no held-out strip") || !strings.Contains(p.details, "passed no held-out strip") {
		t.Errorf("panel %q / details %q: no word that the model passes nothing", p.desc.Text, p.details)
	}
	some := none
	some.Provenance.Metrics = map[string]any{"confusion_at_pass": map[string]any{"tn": 500.0, "fp": 78.0, "tp": 142.0, "fn": 0.0}}
	p.manifest = &some
	p.refresh()
	if strings.Contains(p.desc.Text, "passed no held-out strip") {
		t.Errorf("a model that passes strips is said to pass none: %q", p.desc.Text)
	}
}

// TestSaveDialogsStartInAFolder: a report's save dialog starts beside its
// strip; a folder that is not there is not used.
func TestSaveDialogsStartInAFolder(t *testing.T) {
	h := newHarness(t, Options{})
	d := dialog.NewFileSave(func(fyne.URIWriteCloser, error) {}, h.ins.Window())
	if !startInDir(d, t.TempDir()) {
		t.Error("an existing folder was not used")
	}
	if startInDir(d, filepath.Join(t.TempDir(), "gone")) || startInDir(d, "") {
		t.Error("a missing folder was used")
	}
}
