package ui

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/verdict"
)

// histBins is the number of confidence bins over [0, 1], as in
// evaluate.WritePlots.
const histBins = 50

// Histogram margins around the plot area, for the axis labels.
const (
	histLeft, histRight = 40, 12
	histTop, histBottom = 22, 22
	histGrabDistance    = 10 // how near a line the pointer must be to show it can be dragged
	histBarAlpha        = 0x99
	histReviewBandAlpha = 0x24
	histGridAlpha       = 0x20
	histLineWidthDevice = 2 // device-independent width of a threshold line
	histMinHeight       = 240
	histMinWidth        = 420
	histTickCount       = 10
	histLabelGap        = 4
)

func histCleanColour() color.NRGBA  { return zoneColor(verdict.ZoneAutoPass) }
func histDefectColour() color.NRGBA { return zoneColor(verdict.ZoneAutoReject) }

// histPassLine and histRejectLine are the threshold lines' colours: the
// zones' own, opaque, so they stand out of the translucent bars on light
// and dark themes.
var (
	histPassLine   = zoneColor(verdict.ZoneAutoPass)
	histRejectLine = zoneColor(verdict.ZoneAutoReject)
)

// thresholdHistogram draws defect-free and defective strips' confidence as
// two translucent histograms with the pass and reject thresholds as
// vertical lines. Dragging moves the nearer line, snapped to 0.01, and
// pass always stays below reject.
type thresholdHistogram struct {
	widget.BaseWidget

	clean, defect [histBins]int
	pass, reject  float64
	// grabbed is the line being dragged: 0 none, 1 pass, 2 reject.
	grabbed int
	// near is the line under the pointer, for the cursor.
	near int
	// onChanged runs on every step of a drag.
	onChanged func(pass, reject float64)
}

func newThresholdHistogram(onChanged func(pass, reject float64)) *thresholdHistogram {
	h := &thresholdHistogram{pass: verdict.DefaultThresholds.Pass, reject: verdict.DefaultThresholds.Reject, onChanged: onChanged}
	h.ExtendBaseWidget(h)
	return h
}

// setData bins the strips' confidences.
func (h *thresholdHistogram) setData(conf []float64, defective []bool) {
	h.clean, h.defect = [histBins]int{}, [histBins]int{}
	for k, c := range conf {
		b := min(histBins-1, max(0, int(c*histBins)))
		if defective[k] {
			h.defect[b]++
		} else {
			h.clean[b]++
		}
	}
	h.Refresh()
}

// setThresholds moves the lines without calling back.
func (h *thresholdHistogram) setThresholds(pass, reject float64) {
	if h.pass == pass && h.reject == reject {
		return
	}
	h.pass, h.reject = pass, reject
	h.Refresh()
}

// plotRect is the plot area inside a widget of the given size.
func plotRect(size fyne.Size) (x, y, w, ht float32) {
	return histLeft, histTop, max(1, size.Width-histLeft-histRight), max(1, size.Height-histTop-histBottom)
}

// xOf is the widget x of a confidence value.
func (h *thresholdHistogram) xOf(v float64) float32 {
	x, _, w, _ := plotRect(h.Size())
	return x + float32(v)*w
}

// valueAt is the confidence at widget x, snapped to 0.01.
func (h *thresholdHistogram) valueAt(x float32) float64 {
	px, _, w, _ := plotRect(h.Size())
	return round2(clamp(float64((x-px)/w), 0, 1))
}

// nearest is the line nearer to x (1 pass, 2 reject); a tie, as when the
// lines touch, goes by the direction of the drag.
func (h *thresholdHistogram) nearest(x, dx float32) int {
	dp, dr := abs32(x-h.xOf(h.pass)), abs32(x-h.xOf(h.reject))
	switch {
	case dp < dr:
		return 1
	case dr < dp:
		return 2
	case dx < 0:
		return 1
	default:
		return 2
	}
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// Dragged moves the grabbed line, or grabs the one nearer to where the
// drag started.
func (h *thresholdHistogram) Dragged(ev *fyne.DragEvent) {
	if h.grabbed == 0 {
		h.grabbed = h.nearest(ev.Position.X-ev.Dragged.DX, ev.Dragged.DX)
	}
	v := h.valueAt(ev.Position.X)
	pass, reject := h.pass, h.reject
	if h.grabbed == 1 {
		pass = math.Min(v, round2(reject-thresholdStep))
	} else {
		reject = math.Max(v, round2(pass+thresholdStep))
	}
	if pass == h.pass && reject == h.reject {
		return
	}
	h.pass, h.reject = pass, reject
	h.Refresh()
	if h.onChanged != nil {
		h.onChanged(pass, reject)
	}
}

// DragEnd lets go of the line.
func (h *thresholdHistogram) DragEnd() { h.grabbed = 0 }

// MouseIn, MouseMoved and MouseOut track the line under the pointer.
func (h *thresholdHistogram) MouseIn(ev *desktop.MouseEvent) { h.MouseMoved(ev) }

// MouseMoved notes whether a line is within reach.
func (h *thresholdHistogram) MouseMoved(ev *desktop.MouseEvent) {
	h.near = 0
	if n := h.nearest(ev.Position.X, 0); abs32(ev.Position.X-h.xOf([]float64{0, h.pass, h.reject}[n])) <= histGrabDistance {
		h.near = n
	}
}

// MouseOut forgets the line under the pointer.
func (h *thresholdHistogram) MouseOut() { h.near = 0 }

// Cursor shows that a line can be dragged.
func (h *thresholdHistogram) Cursor() desktop.Cursor {
	if h.near != 0 || h.grabbed != 0 {
		return desktop.HResizeCursor
	}
	return desktop.DefaultCursor
}

// MinSize leaves room for a readable plot.
func (h *thresholdHistogram) MinSize() fyne.Size { return fyne.NewSize(histMinWidth, histMinHeight) }

// CreateRenderer draws the plot as a raster with text labels around it.
func (h *thresholdHistogram) CreateRenderer() fyne.WidgetRenderer {
	r := &histRenderer{h: h}
	r.raster = canvas.NewRaster(r.draw)
	r.objects = append(r.objects, r.raster)
	size := theme.CaptionTextSize()
	for k := 0; k <= histTickCount; k++ {
		t := canvas.NewText(strconv.FormatFloat(float64(k)/histTickCount, 'f', 1, 64), theme.Color(theme.ColorNamePlaceHolder))
		t.TextSize = size
		r.xTicks = append(r.xTicks, t)
		r.objects = append(r.objects, t)
	}
	for k := range r.yTicks {
		r.yTicks[k] = canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
		r.yTicks[k].TextSize = size
		r.yTicks[k].Alignment = fyne.TextAlignTrailing
		r.objects = append(r.objects, r.yTicks[k])
	}
	r.passLabel = canvas.NewText("", histPassLine)
	r.rejectLabel = canvas.NewText("", histRejectLine)
	for _, t := range []*canvas.Text{r.passLabel, r.rejectLabel} {
		t.TextStyle.Bold = true
		t.TextSize = theme.TextSize()
		r.objects = append(r.objects, t)
	}
	r.Refresh()
	return r
}

type histRenderer struct {
	h                      *thresholdHistogram
	raster                 *canvas.Raster
	xTicks                 []*canvas.Text
	yTicks                 [3]*canvas.Text
	passLabel, rejectLabel *canvas.Text
	objects                []fyne.CanvasObject
	yMax                   int
}

func (r *histRenderer) Destroy()                     {}
func (r *histRenderer) MinSize() fyne.Size           { return r.h.MinSize() }
func (r *histRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *histRenderer) Layout(size fyne.Size) {
	x, y, w, ht := plotRect(size)
	r.raster.Move(fyne.NewPos(x, y))
	r.raster.Resize(fyne.NewSize(w, ht))
	for k, t := range r.xTicks {
		ts := t.MinSize()
		t.Move(fyne.NewPos(x+w*float32(k)/histTickCount-ts.Width/2, y+ht+2))
		t.Resize(ts)
	}
	for k, t := range r.yTicks {
		ts := t.MinSize()
		t.Move(fyne.NewPos(0, y+ht-ht*float32(k)/2-ts.Height/2))
		t.Resize(fyne.NewSize(x-histLabelGap, ts.Height))
	}
	// The pass label sits left of its line, the reject label right of
	// its own, so they never overlap.
	ps, rs := r.passLabel.MinSize(), r.rejectLabel.MinSize()
	px := clamp32(r.h.xOf(r.h.pass)-ps.Width-histLabelGap, 0, size.Width-ps.Width)
	rx := clamp32(r.h.xOf(r.h.reject)+histLabelGap, 0, size.Width-rs.Width)
	rx = max(rx, px+ps.Width+histLabelGap) // lines at the far left
	r.passLabel.Move(fyne.NewPos(px, 2))
	r.passLabel.Resize(ps)
	r.rejectLabel.Move(fyne.NewPos(rx, 2))
	r.rejectLabel.Resize(rs)
}

func clamp32(v, lo, hi float32) float32 { return max(lo, min(hi, v)) }

func (r *histRenderer) Refresh() {
	h := r.h
	most := 0
	for b := range histBins {
		most = max(most, h.clean[b], h.defect[b])
	}
	// A round top for the axis: even, so its half is a whole number.
	r.yMax = max(2, most+most%2)
	for k, t := range r.yTicks {
		t.Text = strconv.Itoa(r.yMax * k / 2)
		t.Color = theme.Color(theme.ColorNamePlaceHolder)
	}
	r.yTicks[0].Text = "0"
	for _, t := range r.xTicks {
		t.Color = theme.Color(theme.ColorNamePlaceHolder)
	}
	r.passLabel.Text = fmt.Sprintf("pass %.2f", h.pass)
	r.rejectLabel.Text = fmt.Sprintf("reject %.2f", h.reject)
	r.Layout(h.Size())
	for _, o := range r.objects {
		o.Refresh()
	}
}

// draw paints the plot area: background, grid, the review band between
// the lines, both histograms blended over it, then the lines.
func (r *histRenderer) draw(w, ht int) image.Image {
	h := r.h
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	fill := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Over)
	}
	fill(0, 0, w, ht, theme.Color(theme.ColorNameInputBackground))
	fg := color.NRGBAModel.Convert(theme.Color(theme.ColorNameForeground)).(color.NRGBA)
	grid := fg
	grid.A = histGridAlpha
	scale := 1.0
	if _, _, pw, _ := plotRect(h.Size()); pw > 1 {
		scale = float64(w) / float64(pw)
	}
	xAt := func(v float64) int { return int(math.Round(v * float64(w-1))) }
	for k := 1; k < histTickCount; k++ {
		x := xAt(float64(k) / histTickCount)
		fill(x, 0, x+1, ht, grid)
	}
	for k := 1; k <= 2; k++ {
		y := ht - ht*k/2
		fill(0, y, w, y+1, grid)
	}
	band := zoneColor(verdict.ZoneManualReview)
	band.A = histReviewBandAlpha
	fill(xAt(h.pass), 0, xAt(h.reject), ht, band)
	top := float64(ht) * 0.95 / float64(r.yMax)
	for _, s := range []struct {
		counts *[histBins]int
		c      color.NRGBA
	}{{&h.clean, histCleanColour()}, {&h.defect, histDefectColour()}} {
		c := s.c
		c.A = histBarAlpha
		for b, n := range s.counts {
			if n == 0 {
				continue
			}
			x0 := int(math.Round(float64(b) * float64(w) / histBins))
			x1 := int(math.Round(float64(b+1)*float64(w)/histBins)) - 1
			fill(x0, ht-int(math.Round(float64(n)*top)), max(x0+1, x1), ht, c)
		}
	}
	fill(0, ht-1, w, ht, fg)
	lw := max(3, int(math.Round(histLineWidthDevice*scale)))
	for _, l := range []struct {
		v float64
		c color.NRGBA
	}{{h.pass, histPassLine}, {h.reject, histRejectLine}} {
		x := xAt(l.v) - lw/2
		fill(x, 0, x+lw, ht, l.c)
		// A grip at the top says the line can be taken.
		fill(x-lw, 0, x+2*lw, 3*lw, l.c)
	}
	return img
}
