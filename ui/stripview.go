package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/verdict"
)

// stripView shows a strip scaled to its width with the heatmap overlay on
// top, and reports the patch under the pointer (hover) or finger (tap).
type stripView struct {
	widget.BaseWidget

	strip     *canvas.Image
	overlay   *canvas.Image
	highlight *canvas.Rectangle
	hint      *widget.Label
	frame     *canvas.Rectangle

	imgW, imgH int
	patches    []verdict.Patch
	zones      []verdict.Zone
	hovered    int

	// onHover is called with the patch under the pointer, or -1; onTap
	// with the patch clicked or tapped.
	onHover func(patch int)
	onTap   func(patch int)
}

var (
	_ desktop.Hoverable = (*stripView)(nil)
	_ fyne.Tappable     = (*stripView)(nil)
)

func newStripView(onHover func(int)) *stripView {
	v := &stripView{hovered: -1, onHover: onHover}
	v.strip = canvas.NewImageFromImage(nil)
	v.strip.FillMode = canvas.ImageFillStretch
	v.strip.ScaleMode = canvas.ImageScaleSmooth
	v.overlay = canvas.NewImageFromImage(nil)
	v.overlay.FillMode = canvas.ImageFillStretch
	v.highlight = canvas.NewRectangle(color.Transparent)
	v.highlight.StrokeColor = color.White
	v.highlight.StrokeWidth = 2
	v.highlight.Hide()
	v.frame = canvas.NewRectangle(color.Transparent)
	v.frame.StrokeColor = theme.Color(theme.ColorNameSeparator)
	v.frame.StrokeWidth = 2
	v.frame.CornerRadius = 6
	v.hint = widget.NewLabelWithStyle(
		"Drop strip images here, press Ctrl+O, or pick one from Demo strips",
		fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	v.ExtendBaseWidget(v)
	return v
}

// setImage shows a new strip; nil shows the empty hint.
func (v *stripView) setImage(img image.Image) {
	v.strip.Image = img
	if img == nil {
		v.imgW, v.imgH = 0, 0
		v.hint.Show()
	} else {
		b := img.Bounds()
		v.imgW, v.imgH = b.Dx(), b.Dy()
		v.hint.Hide()
	}
	v.setHovered(-1)
	v.Refresh()
}

// setOverlay replaces the heatmap and the patches it was drawn from. Only
// the overlay is redrawn, not the strip under it: a slider drag redraws
// a few hundred kilobytes, never the whole image texture.
func (v *stripView) setOverlay(img image.Image, patches []verdict.Patch, zones []verdict.Zone) {
	v.overlay.Image = img
	v.patches, v.zones = patches, zones
	if v.hovered >= len(patches) {
		v.setHovered(-1)
	}
	v.overlay.Refresh()
	v.layoutHighlight()
}

// setImageSize records the size of the analysed image, which the patch
// coordinates refer to, when the image shown is a reduced copy.
func (v *stripView) setImageSize(w, h int) {
	v.imgW, v.imgH = w, h
	v.Refresh()
}

// showOverlay shows or hides the heatmap.
func (v *stripView) showOverlay(show bool) {
	if show {
		v.overlay.Show()
	} else {
		v.overlay.Hide()
	}
	v.overlay.Refresh()
}

// aspect is height over width of the shown strip (a typical strip's when
// none is shown).
func (v *stripView) aspect() float32 {
	if v.imgW <= 0 || v.imgH <= 0 {
		return 256.0 / 1600.0
	}
	return float32(v.imgH) / float32(v.imgW)
}

// imageRect is where the strip is drawn inside a widget of the given size:
// as wide as possible, centred horizontally, at the top.
func (v *stripView) imageRect(size fyne.Size) (pos fyne.Position, sz fyne.Size) {
	if v.imgW <= 0 || v.imgH <= 0 {
		return fyne.Position{}, size
	}
	s := min(size.Width/float32(v.imgW), size.Height/float32(v.imgH))
	sz = fyne.NewSize(float32(v.imgW)*s, float32(v.imgH)*s)
	return fyne.NewPos((size.Width-sz.Width)/2, 0), sz
}

// toImage maps a widget position to image pixel coordinates.
func (v *stripView) toImage(p fyne.Position) (x, y int, ok bool) {
	pos, sz := v.imageRect(v.Size())
	if v.imgW <= 0 || sz.Width <= 0 || sz.Height <= 0 {
		return 0, 0, false
	}
	fx := (p.X - pos.X) / sz.Width * float32(v.imgW)
	fy := (p.Y - pos.Y) / sz.Height * float32(v.imgH)
	if fx < 0 || fy < 0 || fx >= float32(v.imgW) || fy >= float32(v.imgH) {
		return 0, 0, false
	}
	return int(fx), int(fy), true
}

func (v *stripView) pointAt(p fyne.Position) {
	idx := -1
	if x, y, ok := v.toImage(p); ok && v.overlay.Visible() {
		idx = patchAt(x, y, v.patches, v.zones)
	} else if ok {
		idx = patchAt(x, y, v.patches, nil)
	}
	v.setHovered(idx)
}

func (v *stripView) setHovered(idx int) {
	if idx == v.hovered {
		return
	}
	v.hovered = idx
	v.layoutHighlight()
	if v.onHover != nil {
		v.onHover(idx)
	}
}

func (v *stripView) layoutHighlight() {
	if v.hovered < 0 || v.hovered >= len(v.patches) || v.imgW <= 0 {
		v.highlight.Hide()
		return
	}
	pos, sz := v.imageRect(v.Size())
	sx, sy := sz.Width/float32(v.imgW), sz.Height/float32(v.imgH)
	p := v.patches[v.hovered]
	v.highlight.Move(fyne.NewPos(pos.X+float32(p.X)*sx, pos.Y+float32(p.Y)*sy))
	v.highlight.Resize(fyne.NewSize(float32(p.W)*sx, float32(p.H)*sy))
	v.highlight.Show()
	v.highlight.Refresh()
}

// MouseIn is called when the pointer enters the strip.
func (v *stripView) MouseIn(e *desktop.MouseEvent) { v.pointAt(e.Position) }

// MouseMoved is called when the pointer moves over the strip.
func (v *stripView) MouseMoved(e *desktop.MouseEvent) { v.pointAt(e.Position) }

// MouseOut is called when the pointer leaves the strip.
func (v *stripView) MouseOut() { v.setHovered(-1) }

// Tapped selects the patch under the pointer or finger and opens it
// (onTap).
func (v *stripView) Tapped(e *fyne.PointEvent) {
	v.pointAt(e.Position)
	if v.hovered >= 0 && v.onTap != nil {
		v.onTap(v.hovered)
	}
}

// highlightPatch outlines patch idx (-1: none), as hovering does: the
// patch table's selected row shows where its patch is.
func (v *stripView) highlightPatch(idx int) { v.setHovered(idx) }

// CreateRenderer builds the strip's renderer.
func (v *stripView) CreateRenderer() fyne.WidgetRenderer {
	return &stripRenderer{v: v}
}

type stripRenderer struct{ v *stripView }

func (r *stripRenderer) Layout(size fyne.Size) {
	v := r.v
	pos, sz := v.imageRect(size)
	for _, o := range []fyne.CanvasObject{v.strip, v.overlay} {
		o.Move(pos)
		o.Resize(sz)
	}
	v.frame.Move(fyne.NewPos(0, 0))
	v.frame.Resize(size)
	hh := v.hint.MinSize().Height
	v.hint.Move(fyne.NewPos(0, max(0, (size.Height-hh)/2)))
	v.hint.Resize(fyne.NewSize(size.Width, hh))
	v.layoutHighlight()
}

func (r *stripRenderer) MinSize() fyne.Size {
	return fyne.NewSize(320, float32(math.Max(48, float64(r.v.hint.MinSize().Height))))
}

func (r *stripRenderer) Refresh() {
	v := r.v
	if v.imgW > 0 {
		v.frame.Hide()
	} else {
		v.frame.StrokeColor = theme.Color(theme.ColorNameSeparator)
		v.frame.Show()
	}
	r.Layout(v.Size())
	v.strip.Refresh()
	v.overlay.Refresh()
	v.frame.Refresh()
}

func (r *stripRenderer) Objects() []fyne.CanvasObject {
	v := r.v
	return []fyne.CanvasObject{v.frame, v.hint, v.strip, v.overlay, v.highlight}
}

func (r *stripRenderer) Destroy() {}
