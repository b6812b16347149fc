package ui

import (
	"image"
	"image/color"
	"math"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// Zone colours: saturated enough to read as text on light and dark themes
// and as a translucent tint over a grey strip.
var zoneColors = [...]color.NRGBA{
	verdict.ZoneAutoPass:     {R: 0x2e, G: 0xa0, B: 0x43, A: 0xff}, // green
	verdict.ZoneManualReview: {R: 0xf5, G: 0x8a, B: 0x00, A: 0xff}, // orange
	verdict.ZoneAutoReject:   {R: 0xe0, G: 0x2b, B: 0x2b, A: 0xff}, // red
}

// zoneColor returns the colour of a zone.
func zoneColor(z verdict.Zone) color.NRGBA {
	if z < 0 || int(z) >= len(zoneColors) {
		return color.NRGBA{A: 0xff}
	}
	return zoneColors[z]
}

// decisionColor returns the colour of a strip decision: the colour of the
// zone with the same rank.
func decisionColor(d verdict.Decision) color.NRGBA { return zoneColor(verdict.Zone(d)) }

// overlayMaxSide bounds the overlay's resolution: larger images get an
// overlay scaled down to this many pixels on their longer side, which is
// more than any screen shows of them.
const overlayMaxSide = 1600

// outlineWidth is the thickness of a patch outline at full resolution.
const outlineWidth = 3

// composeOverlay paints the patch heatmap of an imgW×imgH image as one
// translucent image to lay over it.
//
// Patches overlap (stride 128 on 256), so each pixel takes the colour of
// the highest zone among the patches covering it, at the given opacity
// (0..1). Patches in the manual_review and auto_reject zones also get an
// opaque outline in their colour, odd-numbered ones inset, so overlapping
// suspicious patches stay distinguishable.
func composeOverlay(imgW, imgH int, patches []verdict.Patch, zones []verdict.Zone, opacity float64) *image.NRGBA {
	return composeColoured(imgW, imgH, patches, zones, opacity, colourByZone)
}

// heatmapColours says how the heatmap colours steel.
type heatmapColours int

const (
	// colourByZone paints each pixel green, orange or red: the highest
	// zone among the patches covering it.
	colourByZone heatmapColours = iota
	// colourByProbability paints each pixel on a continuous scale
	// (probabilityColour) of the highest probability among the patches
	// covering it, so two orange patches at 0.41 and 0.64 look different.
	colourByProbability
)

// composeColoured paints the patch heatmap in the colours asked for; the
// outlines of the review and reject regions are the same either way.
func composeColoured(imgW, imgH int, patches []verdict.Patch, zones []verdict.Zone, opacity float64, by heatmapColours) *image.NRGBA {
	if imgW <= 0 || imgH <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	s := overlayScale(imgW, imgH)
	ow := max(1, int(math.Round(float64(imgW)*s)))
	oh := max(1, int(math.Round(float64(imgH)*s)))
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))

	// The highest key (zone, or probability) covering each pixel; -1
	// where no patch does.
	top := make([]float32, ow*oh)
	for i := range top {
		top[i] = -1
	}
	for i, p := range patches {
		if i >= len(zones) {
			break
		}
		r := scaleRect(p, s, out.Rect)
		key := float32(zones[i])
		if by == colourByProbability {
			key = max(0, min(1, p.Probability))
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := top[y*ow : (y+1)*ow]
			for x := r.Min.X; x < r.Max.X; x++ {
				row[x] = max(row[x], key)
			}
		}
	}
	alpha := overlayAlpha(opacity)
	for y := range oh {
		for x := range ow {
			k := top[y*ow+x]
			if k < 0 {
				continue
			}
			var c color.NRGBA
			if by == colourByProbability {
				c = probabilityColour(float64(k))
			} else {
				c = zoneColor(verdict.Zone(k))
			}
			c.A = alpha
			out.SetNRGBA(x, y, c)
		}
	}
	drawPatchOutlines(out, s, patches, zones)
	return out
}

// probabilityStops are the probability scale's colours at 0, ¼, ½, ¾ and
// 1: the "magma" colour map (dark violet to pale yellow), ordered in
// lightness so it reads on grey steel and in greyscale print, and free of
// the zones' green, orange and red, so the two schemes are not confused.
var probabilityStops = [...]color.NRGBA{
	{R: 0x00, G: 0x00, B: 0x04, A: 0xff},
	{R: 0x51, G: 0x12, B: 0x7c, A: 0xff},
	{R: 0xb7, G: 0x37, B: 0x79, A: 0xff},
	{R: 0xfc, G: 0x89, B: 0x61, A: 0xff},
	{R: 0xfc, G: 0xfd, B: 0xbf, A: 0xff},
}

// probabilityColour is p's colour on the probability scale.
func probabilityColour(p float64) color.NRGBA {
	if math.IsNaN(p) {
		p = 0
	}
	p = math.Max(0, math.Min(1, p))
	n := len(probabilityStops) - 1
	k := min(n-1, int(p*float64(n)))
	f := p*float64(n) - float64(k)
	a, b := probabilityStops[k], probabilityStops[k+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.NRGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xff}
}

// probabilityScaleImage draws the probability scale as a w×h legend bar
// with the pass and reject thresholds marked in their zones' colours.
func probabilityScaleImage(w, h int, t verdict.Thresholds) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		c := probabilityColour(float64(x) / float64(max(1, w-1)))
		for y := range h {
			img.SetNRGBA(x, y, c)
		}
	}
	for _, m := range []struct {
		v float64
		z verdict.Zone
	}{{t.Pass, verdict.ZoneAutoPass}, {t.Reject, verdict.ZoneAutoReject}} {
		x0 := int(math.Round(m.v * float64(w-1)))
		for x := max(0, x0-1); x <= min(w-1, x0+1); x++ {
			for y := range h {
				img.SetNRGBA(x, y, zoneColor(m.z))
			}
		}
	}
	return img
}

// composeCellOverlay paints an anomaly model's cell map in place of the
// patch heatmap: each Cell×Cell square takes the colour of the zone its
// own probability falls in under t, at the same opacity, and the patch
// outlines are drawn over it exactly as composeOverlay draws them. The
// patches still decide the strip; the cells show where in a patch the
// unusual steel lies.
func composeCellOverlay(imgW, imgH int, cells *inference.CellMap, t verdict.Thresholds,
	patches []verdict.Patch, zones []verdict.Zone, opacity float64, by heatmapColours) *image.NRGBA {
	if imgW <= 0 || imgH <= 0 || cells == nil || cells.Cell <= 0 {
		return composeColoured(imgW, imgH, patches, zones, opacity, by)
	}
	s := overlayScale(imgW, imgH)
	ow := max(1, int(math.Round(float64(imgW)*s)))
	oh := max(1, int(math.Round(float64(imgH)*s)))
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	alpha := overlayAlpha(opacity)
	for row := range cells.Rows {
		for col := range cells.Cols {
			k := row*cells.Cols + col
			if k >= len(cells.Values) {
				break
			}
			v := float64(cells.Values[k])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue // a cell no band covered
			}
			c := zoneColor(verdict.ZoneOf(v, t))
			if by == colourByProbability {
				c = probabilityColour(v)
			}
			c.A = alpha
			cell := verdict.Patch{X: col * cells.Cell, Y: row * cells.Cell, W: cells.Cell, H: cells.Cell}
			r := scaleRect(cell, s, out.Rect)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					out.SetNRGBA(x, y, c)
				}
			}
		}
	}
	drawPatchOutlines(out, s, patches, zones)
	return out
}

// guessTint is the hue an overlay takes on a strip with a caution: a
// slate blue, neither the zones' green, orange and red nor the
// probability scale's violet to yellow.
var guessTint = [3]float64{0.78, 0.88, 1.12}

// asGuess recolours, in place, an overlay drawn for a strip that went to
// REVIEW for a caution (steel the model was not validated on, or no steel
// texture): the scores there are a guess, so no patch may look like a
// green pass or a red reject. Each pixel keeps its lightness and alpha and
// takes guessTint's hue, so the shapes (where the model would flag) stay
// readable, as the card's "Defect score … · a guess" does.
func asGuess(img *image.NRGBA) *image.NRGBA {
	px := img.Pix
	for i := 0; i+3 < len(px); i += 4 {
		if px[i+3] == 0 {
			continue
		}
		l := 0.299*float64(px[i]) + 0.587*float64(px[i+1]) + 0.114*float64(px[i+2])
		for k, f := range guessTint {
			px[i+k] = uint8(math.Round(math.Min(255, l*f)))
		}
	}
	return img
}

// overlayAlpha turns an opacity (0..1) into an alpha value.
func overlayAlpha(opacity float64) uint8 {
	return uint8(math.Round(255 * math.Max(0, math.Min(1, opacity))))
}

// drawPatchOutlines outlines the region the manual_review patches cover
// and, over it, the region the auto_reject ones cover: one contour per
// region, not one rectangle per patch (overlapping patches at stride 128
// drew a picket of lines over a single defect).
func drawPatchOutlines(out *image.NRGBA, s float64, patches []verdict.Patch, zones []verdict.Zone) {
	w := max(2, int(math.Round(outlineWidth*s)))
	b := out.Rect
	ow, oh := b.Dx(), b.Dy()
	for _, zone := range []verdict.Zone{verdict.ZoneManualReview, verdict.ZoneAutoReject} {
		mask := make([]bool, ow*oh)
		found := false
		for i, p := range patches {
			if i >= len(zones) || zones[i] < zone {
				continue
			}
			r := scaleRect(p, s, b)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					mask[(y-b.Min.Y)*ow+x-b.Min.X] = true
				}
			}
			found = true
		}
		if found {
			drawContour(out, mask, w, zoneColor(zone))
		}
	}
}

// drawContour paints the pixels of mask lying within w pixels (along a row
// or a column) of its edge or of the picture's.
func drawContour(out *image.NRGBA, mask []bool, w int, c color.NRGBA) {
	b := out.Rect
	ow, oh := b.Dx(), b.Dy()
	in := func(x, y int) bool { return x >= 0 && y >= 0 && x < ow && y < oh && mask[y*ow+x] }
	for y := range oh {
		for x := range ow {
			if !mask[y*ow+x] {
				continue
			}
			if !in(x-w, y) || !in(x+w, y) || !in(x, y-w) || !in(x, y+w) {
				out.SetNRGBA(b.Min.X+x, b.Min.Y+y, c)
			}
		}
	}
}

// overlayScale is the factor from image to overlay pixels.
func overlayScale(imgW, imgH int) float64 {
	return math.Min(1, overlayMaxSide/float64(max(imgW, imgH)))
}

// scaleRect maps a patch to overlay pixels, clipped to bounds.
func scaleRect(p verdict.Patch, s float64, bounds image.Rectangle) image.Rectangle {
	r := image.Rect(
		int(math.Floor(float64(p.X)*s)), int(math.Floor(float64(p.Y)*s)),
		int(math.Ceil(float64(p.X+p.W)*s)), int(math.Ceil(float64(p.Y+p.H)*s)))
	return r.Intersect(bounds)
}

// patchAt returns the patch that colours image point (x, y): among those
// covering it, the one in the highest zone, then with the highest
// probability. It returns -1 when no patch covers the point.
func patchAt(x, y int, patches []verdict.Patch, zones []verdict.Zone) int {
	best := -1
	for i, p := range patches {
		if x < p.X || x >= p.X+p.W || y < p.Y || y >= p.Y+p.H {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		zi, zb := zoneAt(zones, i), zoneAt(zones, best)
		if zi > zb || (zi == zb && p.Probability > patches[best].Probability) {
			best = i
		}
	}
	return best
}

// patchesAt lists every patch covering image point (x, y).
func patchesAt(x, y int, patches []verdict.Patch) []int {
	var in []int
	for i, p := range patches {
		if x >= p.X && x < p.X+p.W && y >= p.Y && y < p.Y+p.H {
			in = append(in, i)
		}
	}
	return in
}

func zoneAt(zones []verdict.Zone, i int) verdict.Zone {
	if i < len(zones) {
		return zones[i]
	}
	return verdict.ZoneAutoPass
}
