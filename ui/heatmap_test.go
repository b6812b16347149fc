package ui

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// luma is a colour's lightness (Rec. 601), for ordering.
func luma(c color.NRGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// TestProbabilityColourScale: the scale runs from dark to light without a
// step back, so a higher probability always reads lighter, and it clamps.
func TestProbabilityColourScale(t *testing.T) {
	prev := -1.0
	for k := 0; k <= 100; k++ {
		l := luma(probabilityColour(float64(k) / 100))
		if l <= prev {
			t.Fatalf("lightness falls at p=%.2f: %.1f after %.1f", float64(k)/100, l, prev)
		}
		prev = l
	}
	if probabilityColour(-3) != probabilityColour(0) || probabilityColour(7) != probabilityColour(1) {
		t.Error("the scale does not clamp to [0, 1]")
	}
	legend := probabilityScaleImage(101, 4, verdict.Thresholds{Pass: 0.4, Reject: 0.65})
	if c := legend.NRGBAAt(40, 2); c != zoneColor(verdict.ZoneAutoPass) {
		t.Errorf("pass mark %v", c)
	}
	if c := legend.NRGBAAt(65, 2); c != zoneColor(verdict.ZoneAutoReject) {
		t.Errorf("reject mark %v", c)
	}
	if c := legend.NRGBAAt(90, 2); c != probabilityColour(0.9) {
		t.Errorf("legend at 0.9 is %v, want %v", c, probabilityColour(0.9))
	}
}

// TestProbabilityHeatmap: coloured by probability, two patches in the same
// zone at different probabilities look different, an overlap takes the
// higher probability, and the review/reject outlines are those of the
// zone colouring.
func TestProbabilityHeatmap(t *testing.T) {
	patches := []verdict.Patch{
		{X: 0, Y: 0, W: 256, H: 256, Probability: 0.45},
		{X: 128, Y: 0, W: 256, H: 256, Probability: 0.6},
		{X: 256, Y: 0, W: 256, H: 256, Probability: 0.9},
	}
	zones := []verdict.Zone{verdict.ZoneManualReview, verdict.ZoneManualReview, verdict.ZoneAutoReject}
	byZone := composeColoured(512, 256, patches, zones, 0.5, colourByZone)
	byProb := composeColoured(512, 256, patches, zones, 0.5, colourByProbability)
	at := func(img *image.NRGBA, x int) color.NRGBA { return img.NRGBAAt(x, 128) }
	if at(byZone, 64) != at(byZone, 200) {
		t.Errorf("zone colours differ within one zone: %v %v", at(byZone, 64), at(byZone, 200))
	}
	want := probabilityColour(0.45)
	want.A = 128
	if c := at(byProb, 64); c != want {
		t.Errorf("p=0.45 alone: %v, want %v", c, want)
	}
	want = probabilityColour(0.6)
	want.A = 128
	if c := at(byProb, 200); c != want {
		t.Errorf("overlap of 0.45 and 0.6: %v, want the higher's colour %v", c, want)
	}
	if luma(at(byProb, 450)) <= luma(at(byProb, 200)) {
		t.Errorf("p=0.9 (%v) not lighter than p=0.6 (%v)", at(byProb, 450), at(byProb, 200))
	}
	// The outlines are the same in both schemes.
	for x := range 512 {
		for _, y := range []int{1, 128, 254} {
			a, b := byZone.NRGBAAt(x, y), byProb.NRGBAAt(x, y)
			if (a.A == 0xff) != (b.A == 0xff) || (a.A == 0xff && a != b) {
				t.Fatalf("outline differs at (%d,%d): zones %v, probability %v", x, y, a, b)
			}
		}
	}
}

// TestHeatmapColoursChoice: choosing Probability under Heatmap recolours
// the strip's overlay, shows the scale with the thresholds, and is kept
// for the next start.
func TestHeatmapColoursChoice(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB()))
	w := h.ins.strip
	zoneImg := w.view.overlay.Image.(*image.NRGBA)
	if !w.scaleBox.Hidden {
		t.Error("scale shown with zone colours")
	}
	w.colours.SetSelected(coloursProbability)
	probImg := w.view.overlay.Image.(*image.NRGBA)
	if probImg == zoneImg || probImg.NRGBAAt(10, 10) == zoneImg.NRGBAAt(10, 10) {
		t.Errorf("overlay not recoloured: %v vs %v", probImg.NRGBAAt(10, 10), zoneImg.NRGBAAt(10, 10))
	}
	if w.scaleBox.Hidden || w.scaleText.Text == "" {
		t.Errorf("scale hidden (%v) or unlabelled (%q)", w.scaleBox.Hidden, w.scaleText.Text)
	}
	if got := h.app.Preferences().String(prefOverlayColours); got != coloursProbability {
		t.Errorf("preference %q", got)
	}
	w.showOverlay.SetChecked(false)
	if !w.scaleBox.Hidden {
		t.Error("scale shown with the heatmap off")
	}
}

// TestHeatmapOfAGuess: on a strip a caution sent to REVIEW, the heatmap
// shows no pass green and no reject red (the scores there are a guess),
// keeps the shapes (what was brighter stays brighter, transparent stays
// transparent), and the patch caption says it is a guess, not a zone.
func TestHeatmapOfAGuess(t *testing.T) {
	patches := []verdict.Patch{
		{X: 0, Y: 0, W: 256, H: 256, Probability: 0.1},
		{X: 256, Y: 0, W: 256, H: 256, Probability: 0.99},
	}
	zones := []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoReject}
	plain := composeColoured(768, 256, patches, zones, 0.5, colourByZone)
	guess := asGuess(composeColoured(768, 256, patches, zones, 0.5, colourByZone))
	for _, x := range []int{20, 128, 300, 400, 700} {
		p, g := plain.NRGBAAt(x, 128), guess.NRGBAAt(x, 128)
		if g.A != p.A {
			t.Errorf("x=%d: alpha %d, was %d", x, g.A, p.A)
		}
		if p.A == 0 {
			continue
		}
		if !(g.B > g.R && g.B > g.G) {
			t.Errorf("x=%d: %v is not the guess tint (was %v)", x, g, p)
		}
		for _, z := range []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneManualReview, verdict.ZoneAutoReject} {
			c := zoneColor(z)
			if g.R == c.R && g.G == c.G && g.B == c.B {
				t.Errorf("x=%d: still the %v colour", x, z)
			}
		}
	}
	if plain.NRGBAAt(700, 128).A != 0 {
		t.Fatal("no patch covers x=700, yet it is painted")
	}
	pass, reject := guess.NRGBAAt(128, 128), guess.NRGBAAt(400, 128)
	if luma(pass) == luma(reject) {
		t.Errorf("the pass and reject regions look alike: %v %v", pass, reject)
	}

	v := &verdict.Verdict{Zones: zones, Cautions: []verdict.Caution{{Kind: verdict.CautionUnfamiliar, Reason: "unfamiliar strip"}}}
	if w := patchZoneWords(v, 1); !strings.Contains(w, "a guess") || strings.Contains(w, zoneTitle(verdict.ZoneAutoReject)) {
		t.Errorf("caption of a cautioned patch: %q", w)
	}
	if text, imp := zoneCell(v, 1, "class 3"); !strings.HasPrefix(text, "guess") || imp == decisionImportance(verdict.Reject) {
		t.Errorf("table cell of a cautioned patch: %q, importance %v", text, imp)
	}
	v.Cautions = nil
	if text, imp := zoneCell(v, 1, "class 3"); text != "auto_reject · class 3" || imp != decisionImportance(verdict.Reject) {
		t.Errorf("table cell of a plain patch: %q, importance %v", text, imp)
	}
	if w := patchZoneWords(v, 1); w != zoneTitle(verdict.ZoneAutoReject) {
		t.Errorf("caption of a plain patch: %q", w)
	}
}
