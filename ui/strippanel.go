package ui

import (
	"fmt"
	"image"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// stripPanel is the strip view: the strip image with its heatmap, the
// caption under it, the heatmap controls (show, fine map, colours, scale,
// opacity), the detailed patch table and the 1:1 patch view. It holds
// what these show of the strip (the table's order and sort, the patch
// under the pointer, the open zoom) and asks the window for the strip in
// view through stripHost. It belongs to the UI goroutine.
type stripPanel struct {
	host stripHost

	view    *stripView
	caption *widget.Label

	opacity      *widget.Slider
	opacityValue *widget.Label
	showOverlay  *widget.Check
	fineMap      *widget.Check
	colours      *widget.RadioGroup
	scale        *canvas.Image
	scaleText    *widget.Label
	scaleBox     *fyne.Container

	details *widget.Accordion
	table   *widget.Table

	sortMode   sortMode
	tableOrder []int // patch indices in table row order
	hoverPatch int
	// zoom is the open patch view, nil when none.
	zoom *zoomView
}

// stripHost is what the strip view needs of the window. The Inspector
// implements it.
type stripHost interface {
	// shown is the strip in view: its item, its analysis and its verdict
	// at the thresholds in force (nils when none).
	shown() (*item, *inference.Analysis, *verdict.Verdict)
	// thresholdsInForce are the thresholds the heatmap marks.
	thresholdsInForce() verdict.Thresholds
	// stride is the model's patch stride (0 when unknown).
	stride() int
	// preferences keeps the heatmap choices for the next start.
	preferences() fyne.Preferences
	// window is the window the patch view opens over.
	window() fyne.Window
	// trackDialog gives a dialog Enter and Esc.
	trackDialog(d dialog.Dialog, enter, esc func())
}

func newStripPanel(host stripHost) *stripPanel {
	return &stripPanel{host: host, hoverPatch: -1, sortMode: sortByIndex}
}

// analysis is the shown strip's analysis and verdict (nils when none).
func (s *stripPanel) analysis() (*inference.Analysis, *verdict.Verdict) {
	_, a, v := s.host.shown()
	return a, v
}

// buildStrip makes the strip image and its caption.
func (s *stripPanel) buildStrip() {
	s.view = newStripView(s.onHoverPatch)
	s.view.onTap = s.showPatchZoom
	s.caption = widget.NewLabel("")
	s.caption.Truncation = fyne.TextTruncateEllipsis
}

// showImage shows the strip's display image; the patches refer to an
// analysed image w×h pixels.
func (s *stripPanel) showImage(img image.Image, w, h int) {
	s.view.setImage(img)
	s.view.setImageSize(w, h)
}

// refresh redraws the patch table and the caption from the strip shown.
func (s *stripPanel) refresh() {
	s.refreshTable()
	s.refreshCaption()
}

// buildDetails makes the "Detailed patch analysis" accordion with the
// patch table, open.
func (s *stripPanel) buildDetails() *widget.Accordion {
	s.table = s.buildPatchTable()
	tableBox := container.New(&fixedHeight{height: s.tableHeight}, s.table)
	s.details = widget.NewAccordion(widget.NewAccordionItem("Detailed patch analysis", tableBox))
	s.details.Open(0)
	return s.details
}

func (s *stripPanel) buildOverlayControls() fyne.CanvasObject {
	p := s.host.preferences()
	s.opacity = widget.NewSlider(0, 1)
	s.opacity.Step = 0.05
	s.opacity.Value = clamp(p.FloatWithFallback(prefOverlayOpacity, defaultOverlayOpacity), 0, 1)
	s.opacityValue = widget.NewLabelWithStyle(fmt.Sprintf("%d %%", int(s.opacity.Value*100+0.5)),
		fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
	s.opacity.OnChanged = func(v float64) {
		s.opacityValue.SetText(fmt.Sprintf("%d %%", int(v*100+0.5)))
		p.SetFloat(prefOverlayOpacity, v)
		s.refreshOverlay()
	}
	// Set the saved states before the callbacks, so starting up writes no
	// preference.
	s.fineMap = widget.NewCheck("Fine map", nil)
	s.fineMap.Checked = p.BoolWithFallback(prefFineMap, false)
	s.fineMap.OnChanged = func(on bool) {
		p.SetBool(prefFineMap, on)
		s.refreshOverlay()
	}
	s.colours = widget.NewRadioGroup([]string{coloursZones, coloursProbability}, nil)
	s.colours.Horizontal = true
	s.colours.Required = true
	s.colours.Selected = p.StringWithFallback(prefOverlayColours, coloursZones)
	if s.colours.Selected != coloursProbability {
		s.colours.Selected = coloursZones
	}
	s.colours.OnChanged = func(v string) {
		p.SetString(prefOverlayColours, v)
		s.refreshOverlay()
	}
	s.scale = canvas.NewImageFromImage(probabilityScaleImage(256, 12, s.host.thresholdsInForce()))
	s.scale.FillMode = canvas.ImageFillStretch
	s.scale.ScaleMode = canvas.ImageScalePixels
	s.scale.SetMinSize(fyne.NewSize(200, 12))
	s.scaleText = widget.NewLabel("")
	s.scaleText.Importance = widget.LowImportance
	s.scaleText.Wrapping = fyne.TextWrapWord
	s.scaleBox = container.NewVBox(s.scale, s.scaleText)
	s.scaleBox.Hide()
	s.showOverlay = widget.NewCheck("Show patch heatmap", nil)
	s.showOverlay.Checked = p.BoolWithFallback(prefOverlayShown, true)
	s.applyShown(s.showOverlay.Checked)
	s.showOverlay.OnChanged = func(on bool) {
		p.SetBool(prefOverlayShown, on)
		s.applyShown(on)
	}
	return container.NewVBox(
		heading("Heatmap"),
		s.showOverlay,
		s.fineMap,
		container.NewHBox(widget.NewLabel("Colours"), s.colours),
		s.scaleBox,
		container.NewBorder(nil, nil, widget.NewLabel("Opacity"), s.opacityValue),
		s.opacity,
	)
}

// applyShown shows or hides the heatmap, with the controls that tune it.
func (s *stripPanel) applyShown(on bool) {
	s.view.showOverlay(on)
	if on {
		s.opacity.Enable()
		s.colours.Enable()
	} else {
		s.opacity.Disable()
		s.colours.Disable()
	}
	s.refreshFineMap()
	s.refreshScale()
}

// refreshOverlay recomposes the heatmap from the verdict's zones, or the
// cell map with the current thresholds when the fine map is on.
func (s *stripPanel) refreshOverlay() {
	s.refreshFineMap()
	a, v := s.analysis()
	if a == nil || v == nil {
		s.view.setOverlay(nil, nil, nil)
		return
	}
	s.view.setOverlay(s.heatmapImage(a, v), a.Patches, v.Zones)
	s.refreshScale()
}

// heatmapImage is the overlay for analysis a decided as v, as the
// heatmap controls ask: patches or fine map, zone or probability colours;
// in the guess look (asGuess) when a caution sent the strip to REVIEW.
func (s *stripPanel) heatmapImage(a *inference.Analysis, v *verdict.Verdict) *image.NRGBA {
	by := s.heatmapColours()
	var img *image.NRGBA
	if s.fineMapOn() {
		img = composeCellOverlay(a.Image.Width, a.Image.Height, a.Cells, s.host.thresholdsInForce(), a.Patches, v.Zones, s.opacity.Value, by)
	} else {
		img = composeColoured(a.Image.Width, a.Image.Height, a.Patches, v.Zones, s.opacity.Value, by)
	}
	if scoreIsAGuess(v) {
		return asGuess(img)
	}
	return img
}

// heatmapColours is the colour scheme chosen under Heatmap.
func (s *stripPanel) heatmapColours() heatmapColours {
	if s.colours != nil && s.colours.Selected == coloursProbability {
		return colourByProbability
	}
	return colourByZone
}

// refreshScale shows the probability scale, with the thresholds marked,
// while the heatmap is coloured by probability.
func (s *stripPanel) refreshScale() {
	if s.scaleBox == nil {
		return
	}
	if s.heatmapColours() != colourByProbability || !s.showOverlay.Checked {
		s.scaleBox.Hide()
		return
	}
	t := s.host.thresholdsInForce()
	s.scale.Image = probabilityScaleImage(256, 12, t)
	s.scale.Refresh()
	s.scaleText.SetText(fmt.Sprintf("0 … 1 · marks: pass %.2f (green), reject %.2f (red)", t.Pass, t.Reject))
	s.scaleBox.Show()
}

// fineMapOn says whether the overlay shows the cell map: asked for, and
// the shown strip's analysis has one.
func (s *stripPanel) fineMapOn() bool {
	a, _ := s.analysis()
	return s.fineMap.Checked && a != nil && a.Cells != nil
}

// refreshFineMap offers the fine map only where the shown analysis has a
// cell map (anomaly models) and the heatmap is shown.
func (s *stripPanel) refreshFineMap() {
	f := s.fineMap
	if f == nil {
		return
	}
	a, _ := s.analysis()
	if a != nil && a.Cells != nil {
		f.SetText(fmt.Sprintf("Fine map (%d px cells)", a.Cells.Cell))
	} else {
		f.SetText("Fine map (taught models)")
	}
	if a != nil && a.Cells != nil && s.showOverlay != nil && s.showOverlay.Checked {
		f.Enable()
	} else {
		f.Disable()
	}
}

// onHoverPatch follows the patch under the pointer (or the table's
// selected row): the caption gives its figures and its table row is shown
// in bold and scrolled into view, so patches and rows point at each
// other.
func (s *stripPanel) onHoverPatch(idx int) {
	s.hoverPatch = idx
	s.refreshCaption()
	t := s.table
	if t == nil {
		return
	}
	t.Refresh()
	for row, k := range s.tableOrder {
		if k == idx {
			t.ScrollTo(widget.TableCellID{Row: row, Col: colIndex})
			break
		}
	}
}

func (s *stripPanel) refreshCaption() {
	a, v := s.analysis()
	switch {
	case a == nil || v == nil:
		s.caption.SetText("")
	case s.hoverPatch < 0 || s.hoverPatch >= len(a.Patches):
		s.caption.SetText(fmt.Sprintf("%d patches of %d×%d px, stride %d. Hover over or tap a patch for its probability.",
			len(a.Patches), patchSize(a), patchSize(a), s.host.stride()))
	default:
		p := a.Patches[s.hoverPatch]
		text := fmt.Sprintf("Patch #%d   x %d–%d, y %d–%d   probability %.3f   %s",
			s.hoverPatch, p.X, p.X+p.W, p.Y, p.Y+p.H, p.Probability, patchZoneWords(v, s.hoverPatch))
		var others []string
		for _, k := range patchesAt(p.X+p.W/2, p.Y+p.H/2, a.Patches) {
			if k != s.hoverPatch {
				others = append(others, fmt.Sprintf("#%d %.3f", k, a.Patches[k].Probability))
			}
		}
		if len(others) > 0 {
			text += "   (overlaps " + strings.Join(others, ", ") + ")"
		}
		s.caption.SetText(text)
	}
}

// patchZoneWords names patch k's zone under v; on a strip with a caution
// the score is a guess (scoreLines, asGuess) and the words say so.
func patchZoneWords(v *verdict.Verdict, k int) string {
	if scoreIsAGuess(v) {
		return "a guess, no zone: the strip is in review for the reason on the card"
	}
	return zoneTitle(zoneAt(v.Zones, k))
}

// patchSize is the side of a's patches (0 when it has none).
func patchSize(a *inference.Analysis) int {
	if len(a.Patches) > 0 {
		return a.Patches[0].W
	}
	return 0
}
