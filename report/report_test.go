package report

import (
	"image"
	"image/color"
	"testing"
	"time"

	"steelinspect/verdict"
)

// strip makes a 1600×256 grey strip whose columns from x0 on are white,
// with its 12 patches (256 wide, stride 128) and their mean brightness as
// probabilities, like the tiny test model.
func strip(bg uint8, x0 int) (*image.Gray, []verdict.Patch) {
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	for y := range 256 {
		for x := range 1600 {
			v := bg
			if x >= x0 {
				v = 255
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	var patches []verdict.Patch
	for x := 0; x+256 <= 1600; x += 128 {
		sum := 0
		for xx := x; xx < x+256; xx++ {
			sum += int(img.Pix[xx])
		}
		patches = append(patches, verdict.Patch{X: x, Y: 0, W: 256, H: 256, Probability: float32(sum) / 256 / 255})
	}
	last := patches[len(patches)-1]
	if last.X+256 < 1600 {
		patches = append(patches, verdict.Patch{X: 1344, Y: 0, W: 256, H: 256, Probability: 1})
	}
	return img, patches
}

func probs(ps []verdict.Patch) []float32 {
	out := make([]float32, len(ps))
	for i, p := range ps {
		out[i] = p.Probability
	}
	return out
}

func near(c color.Color, want color.NRGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x <= tol && x >= -tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func mix(bg uint8, c color.NRGBA) color.NRGBA {
	m := func(v uint8) uint8 { return uint8(float64(bg)*(1-overlayAlpha) + float64(v)*overlayAlpha + 0.5) }
	return color.NRGBA{m(c.R), m(c.G), m(c.B), 0xff}
}

func TestRenderColours(t *testing.T) {
	img, patches := strip(60, 1344)
	for _, tc := range []struct {
		th   verdict.Thresholds
		want verdict.Decision
	}{
		{verdict.Thresholds{Pass: 0.40, Reject: 0.65}, verdict.Reject},
		{verdict.Thresholds{Pass: 0.40, Reject: 1.0}, verdict.Review},
	} {
		v, err := verdict.Decide(probs(patches), tc.th, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Decision != tc.want {
			t.Fatalf("decision %v, want %v", v.Decision, tc.want)
		}
		out := Render(img, patches, v, Meta{FileName: "/line/a.png", InspectedAt: time.Now(),
			Model:            verdict.ModelIdentity{Name: "tiny", Version: "1", SHA256: "0123456789abcdef"},
			OperatorDecision: verdict.Some(verdict.Pass), Operator: "alice", Reason: "paint"})
		if b := out.Bounds(); b.Dx() != Width || b.Dy() != 256+BlockHeight {
			t.Fatalf("report %v", b)
		}
		// The operator's PASS is the headline: the bar and the title are in
		// its colour, whatever the automatic decision was.
		final := verdict.Pass
		if c := out.At(BarWidth/2, 256+BlockHeight/2); !near(c, DecisionColor(final), 0) {
			t.Errorf("%v overridden to PASS: bar %v, want %v", v.Decision, c, DecisionColor(final))
		}
		found := false
		for y := 256 + 20; y < 256+90 && !found; y++ {
			for x := BarWidth + 20; x < 400; x++ {
				if near(out.At(x, y), DecisionColor(final), 0) {
					found = true
					break
				}
			}
		}
		if !found {
			t.Errorf("%v: no text in the decision colour", v.Decision)
		}
	}

	v, _ := verdict.Decide(probs(patches), verdict.Thresholds{Pass: 0.40, Reject: 0.65}, nil)
	out := Render(img, patches, v, Meta{})
	// Patch 0 (x 0..256, p≈0.235) is green over grey 60; patch 9's own
	// part (x 1152..1280, p≈0.43) orange over grey; patch 11's part right of
	// patch 10's outline is red over white.
	checks := []struct {
		x, y int
		want color.NRGBA
	}{
		{100, 128, mix(60, ZoneColors[verdict.ZoneAutoPass])},
		{1200, 128, mix(60, ZoneColors[verdict.ZoneManualReview])},
		{1560, 128, mix(255, ZoneColors[verdict.ZoneAutoReject])},
		{1, 128, ZoneColors[verdict.ZoneAutoPass]},            // no outline on pass patches: tint only
		{1400, 1, ZoneColors[verdict.ZoneAutoReject]},         // patch 10 (even) reject outline
		{1153 + 6, 128, ZoneColors[verdict.ZoneManualReview]}, // patch 9 (odd) outline, inset
	}
	checks[3].want = mix(60, ZoneColors[verdict.ZoneAutoPass])
	for _, c := range checks {
		if got := out.At(c.x, c.y); !near(got, c.want, 2) {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestRenderScalesLargeStrips(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 3200, 512))
	p := []verdict.Patch{{X: 2688, Y: 0, W: 512, H: 512, Probability: 0.9}}
	v, err := verdict.Decide([]float32{0.9}, verdict.DefaultThresholds, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := Render(img, p, v, Meta{})
	if b := out.Bounds(); b.Dx() != Width || b.Dy() != 256+BlockHeight {
		t.Fatalf("report %v", b)
	}
	if got := out.At(1500, 128); !near(got, mix(0, ZoneColors[verdict.ZoneAutoReject]), 2) {
		t.Errorf("scaled patch at (1500,128) = %v", got)
	}
}

func BenchmarkRender(b *testing.B) {
	img, patches := strip(60, 1344)
	v, _ := verdict.Decide(probs(patches), verdict.DefaultThresholds, nil)
	for b.Loop() {
		Render(img, patches, v, Meta{FileName: "a.png"})
	}
}
