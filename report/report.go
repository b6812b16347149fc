// Package report draws the per-strip inspection report: the strip with its
// patch heatmap and a block stating the decision and everything that
// produced it (model, thresholds, zone counts, operator review). It is
// plain image code with no GUI, so the window, the CLI and a server can all
// write the same report.
package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"path/filepath"
	"sync"
	"time"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"steelinspect/verdict"
)

// Meta is what the report states beside the verdict.
type Meta struct {
	FileName    string // shown by its base name
	InspectedAt time.Time
	Model       verdict.ModelIdentity
	AuditID     int64 // 0: not recorded

	// The operator's review, when there is one.
	OperatorDecision verdict.Optional // PASS or REJECT; none while nobody decided
	Operator         string
	ReviewedAt       time.Time
	Reason           string
}

// Layout of the report, in pixels.
const (
	// Width is the report's width; the strip is scaled to it.
	Width = 1600
	// MaxStripHeight bounds the strip's height in the report.
	MaxStripHeight = 900
	// BlockHeight is the height of the decision block under the strip.
	BlockHeight = 300
	// BarWidth is the decision-coloured bar at the block's left edge.
	BarWidth = 28

	overlayAlpha = 0.40
	outline      = 3
)

// ZoneColors are the heatmap colours: green, orange, red.
var ZoneColors = [...]color.NRGBA{
	verdict.ZoneAutoPass:     {R: 0x2e, G: 0xa0, B: 0x43, A: 0xff},
	verdict.ZoneManualReview: {R: 0xf5, G: 0x8a, B: 0x00, A: 0xff},
	verdict.ZoneAutoReject:   {R: 0xe0, G: 0x2b, B: 0x2b, A: 0xff},
}

// DecisionColor is the colour of a decision: that of the zone of the same
// rank.
func DecisionColor(d verdict.Decision) color.NRGBA {
	if d < 0 || int(d) >= len(ZoneColors) {
		return color.NRGBA{A: 0xff}
	}
	return ZoneColors[d]
}

// Render draws the report for one strip: img scored as patches, decided as
// v. The patches are in img's pixel coordinates; v.Zones gives their zones.
//
//	out := report.Render(img, a.Patches, v, report.Meta{FileName: a.Source, Model: a.Model})
func Render(img image.Image, patches []verdict.Patch, v verdict.Verdict, meta Meta) *image.NRGBA {
	strip, scale := fitStrip(img)
	sh := strip.Bounds().Dy()
	out := image.NewNRGBA(image.Rect(0, 0, Width, sh+BlockHeight))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.NRGBA{0xf7, 0xf7, 0xf7, 0xff}), image.Point{}, draw.Src)
	x0 := (Width - strip.Bounds().Dx()) / 2
	draw.Draw(out, strip.Bounds().Add(image.Pt(x0, 0)), strip, image.Point{}, draw.Src)
	drawOverlay(out, image.Rect(x0, 0, x0+strip.Bounds().Dx(), sh), patches, v.Zones, scale)
	drawBlock(out, image.Rect(0, sh, Width, sh+BlockHeight), v, meta)
	return out
}

// fitStrip scales img to the report's width (and at most MaxStripHeight
// high) and returns the factor from image to report pixels.
func fitStrip(img image.Image) (*image.NRGBA, float64) {
	if img == nil || img.Bounds().Empty() {
		return image.NewNRGBA(image.Rect(0, 0, Width, 1)), 1
	}
	b := img.Bounds()
	s := math.Min(float64(Width)/float64(b.Dx()), float64(MaxStripHeight)/float64(b.Dy()))
	w := max(1, int(math.Round(float64(b.Dx())*s)))
	h := max(1, int(math.Round(float64(b.Dy())*s)))
	if w == b.Dx() && h == b.Dy() {
		return imaging.Clone(img), 1
	}
	return imaging.Resize(img, w, h, imaging.Box), s
}

// drawOverlay tints each pixel of the strip area with the highest zone of
// the patches covering it and outlines review and reject patches.
func drawOverlay(out *image.NRGBA, area image.Rectangle, patches []verdict.Patch, zones []verdict.Zone, s float64) {
	w, h := area.Dx(), area.Dy()
	top := make([]int8, w*h)
	for k := range top {
		top[k] = -1
	}
	rects := make([]image.Rectangle, len(patches))
	for k, p := range patches {
		r := image.Rect(int(math.Floor(float64(p.X)*s)), int(math.Floor(float64(p.Y)*s)),
			int(math.Ceil(float64(p.X+p.W)*s)), int(math.Ceil(float64(p.Y+p.H)*s))).Intersect(image.Rect(0, 0, w, h))
		rects[k] = r
		if k >= len(zones) {
			continue
		}
		z := int8(zones[k])
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := top[y*w : (y+1)*w]
			for x := r.Min.X; x < r.Max.X; x++ {
				row[x] = max(row[x], z)
			}
		}
	}
	for y := range h {
		for x := range w {
			if z := top[y*w+x]; z >= 0 {
				blend(out, area.Min.X+x, area.Min.Y+y, ZoneColors[z], overlayAlpha)
			}
		}
	}
	for _, zone := range []verdict.Zone{verdict.ZoneManualReview, verdict.ZoneAutoReject} {
		for k, r := range rects {
			if k >= len(zones) || zones[k] != zone {
				continue
			}
			if k%2 == 1 {
				r = r.Inset(2 * outline)
			}
			strokeRect(out, r.Add(area.Min), outline, ZoneColors[zone])
		}
	}
}

func blend(img *image.NRGBA, x, y int, c color.NRGBA, a float64) {
	o := img.PixOffset(x, y)
	p := img.Pix[o : o+3 : o+3]
	p[0] = uint8(float64(p[0])*(1-a) + float64(c.R)*a + 0.5)
	p[1] = uint8(float64(p[1])*(1-a) + float64(c.G)*a + 0.5)
	p[2] = uint8(float64(p[2])*(1-a) + float64(c.B)*a + 0.5)
}

func fillRect(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

// strokeRect draws the inner border of r, w pixels thick.
func strokeRect(img *image.NRGBA, r image.Rectangle, w int, c color.NRGBA) {
	if r.Empty() {
		return
	}
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+w).Intersect(r), c)
	fillRect(img, image.Rect(r.Min.X, r.Max.Y-w, r.Max.X, r.Max.Y).Intersect(r), c)
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+w, r.Max.Y).Intersect(r), c)
	fillRect(img, image.Rect(r.Max.X-w, r.Min.Y, r.Max.X, r.Max.Y).Intersect(r), c)
}

var (
	facesOnce                  sync.Once
	titleFace, boldFace, plain font.Face
)

// faces parses the Go fonts once; they are compiled in, so parsing cannot
// fail short of a broken build.
func faces() (title, bold, regular font.Face) {
	facesOnce.Do(func() {
		reg, err := opentype.Parse(goregular.TTF)
		if err != nil {
			panic(err)
		}
		b, err := opentype.Parse(gobold.TTF)
		if err != nil {
			panic(err)
		}
		mk := func(f *opentype.Font, size float64) font.Face {
			face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
			if err != nil {
				panic(err)
			}
			return face
		}
		titleFace, boldFace, plain = mk(b, 64), mk(b, 22), mk(reg, 22)
	})
	return titleFace, boldFace, plain
}

var (
	textDark = color.NRGBA{0x20, 0x20, 0x20, 0xff}
	textGrey = color.NRGBA{0x60, 0x60, 0x60, 0xff}
)

func text(img *image.NRGBA, face font.Face, c color.Color, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// fitText cuts s with an ellipsis to fit width pixels.
func fitText(face font.Face, s string, width int) string {
	if font.MeasureString(face, s).Ceil() <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && font.MeasureString(face, string(r)+"…").Ceil() > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// textLine is one line of the block with its face and colour.
type textLine struct {
	face font.Face
	c    color.Color
	s    string
}

// drawBlock writes the decision block into r.
func drawBlock(out *image.NRGBA, r image.Rectangle, v verdict.Verdict, m Meta) {
	title, bold, regular := faces()
	// the headline is the final disposition: the operator's decision over
	// the automatic one, which stays visible beneath it
	final := verdict.Final(v.Decision, m.OperatorDecision)
	dc := DecisionColor(final)
	fillRect(out, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+2), color.NRGBA{0xc8, 0xc8, 0xc8, 0xff})
	fillRect(out, image.Rect(r.Min.X, r.Min.Y+2, r.Min.X+BarWidth, r.Max.Y), dc)

	x, y := r.Min.X+BarWidth+28, r.Min.Y+76
	text(out, title, dc, x, y, final.String())
	col := 520
	var lines []textLine
	if final != v.Decision {
		lines = append(lines, textLine{bold, DecisionColor(v.Decision), fmt.Sprintf("Automatic decision: %s, overridden by the operator", v.Decision)})
	}
	lines = append(lines, []textLine{
		{bold, textDark, fmt.Sprintf("Defect score %.1f %% · %s confidence", 100*v.Confidence, v.ConfidenceLevel)},
		{regular, textDark, v.Recommendation},
		{regular, textDark, fmt.Sprintf("Zones: %d auto-pass · %d review · %d auto-reject (of %d patches)",
			v.Counts.AutoPass, v.Counts.ManualReview, v.Counts.AutoReject, len(v.Zones))},
	}...)
	if od, ok := m.OperatorDecision.Get(); ok {
		op := fmt.Sprintf("Operator: %s by %s", od, m.Operator)
		if !m.ReviewedAt.IsZero() {
			op += " at " + m.ReviewedAt.Format("2006-01-02 15:04:05")
		}
		lines = append(lines, textLine{bold, DecisionColor(od), op})
		if m.Reason != "" {
			lines = append(lines, textLine{regular, textDark, "Reason: " + m.Reason})
		}
	} else if v.Decision == verdict.Review {
		lines = append(lines, textLine{bold, DecisionColor(verdict.Review), "Operator: not yet reviewed"})
	}
	ly := y + 44
	for _, l := range lines {
		text(out, l.face, l.c, x, ly, fitText(l.face, l.s, col+560-x))
		ly += 32
	}

	rx := r.Min.X + col + 600
	right := []string{
		"File: " + filepath.Base(m.FileName),
		"Inspected: " + formatTime(m.InspectedAt),
		fmt.Sprintf("Model: %s %s", m.Model.Name, m.Model.Version),
		"Model sha256: " + m.Model.ShortHash(),
		fmt.Sprintf("Thresholds: pass < %.2f · reject > %.2f", v.Thresholds.Pass, v.Thresholds.Reject),
		fmt.Sprintf("Max %.3f · mean %.3f", v.Confidence, v.MeanProbability),
	}
	if m.AuditID > 0 {
		right = append(right, fmt.Sprintf("Audit record #%d", m.AuditID))
	}
	ry := r.Min.Y + 40
	for _, s := range right {
		text(out, regular, textGrey, rx, ry, fitText(regular, s, r.Max.X-rx-20))
		ry += 32
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}
