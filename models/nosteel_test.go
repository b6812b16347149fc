package models_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// noSteel is a 1600×256 frame with no steel in it: f plus Gaussian sensor
// noise of spread sigma.
func noSteel(sigma float64, seed uint64, f func(x, y int) float64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 11))
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	for y := range 256 {
		for x := range 1600 {
			img.Pix[y*img.Stride+x] = uint8(math.Max(0, math.Min(255, math.Round(f(x, y)+sigma*r.NormFloat64()))))
		}
	}
	return img
}

// TestBundledModelSendsFramesWithoutSteelToReview: end to end, through
// the bundled model at its most permissive thresholds (pass 0.50, reject
// 0.80), every frame with no steel in it goes to REVIEW with a reason in
// plain words, saved as JPEG at quality 90 or as PNG: flat grey with
// sensor noise (spread 1–6, brightness 10–140), a failing sensor's row
// and column stripes, smooth gradients. Without the check the model
// would have auto-passed some of them (logged).
func TestBundledModelSendsFramesWithoutSteelToReview(t *testing.T) {
	e := openBundled(t)
	type frame struct {
		name string
		img  *image.Gray
	}
	var frames []frame
	seed := uint64(0)
	for _, level := range []float64{10, 40, 70, 100, 140} {
		for _, sigma := range []float64{1, 3, 6} {
			seed++
			frames = append(frames, frame{fmt.Sprintf("flat %.0f±%.0f", level, sigma), noSteel(sigma, seed, func(int, int) float64 { return level })})
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	rowOff, colOff := make([]float64, 256), make([]float64, 1600)
	for i := range rowOff {
		rowOff[i] = 6 * r.NormFloat64()
	}
	for i := range colOff {
		colOff[i] = 6 * r.NormFloat64()
	}
	for _, level := range []float64{40, 110} {
		seed++
		frames = append(frames,
			frame{fmt.Sprintf("row stripes at %.0f", level), noSteel(2, seed, func(_, y int) float64 { return level + rowOff[y] })},
			frame{fmt.Sprintf("column stripes at %.0f", level), noSteel(2, seed+100, func(x, _ int) float64 { return level + colOff[x] })})
	}
	for _, sigma := range []float64{1, 3} {
		seed++
		frames = append(frames,
			frame{fmt.Sprintf("gradient ±%.0f", sigma), noSteel(sigma, seed, func(x, _ int) float64 { return 20 + 180*float64(x)/1600 })},
			frame{fmt.Sprintf("vignette ±%.0f", sigma), noSteel(sigma, seed+100, func(x, y int) float64 {
				dx, dy := (float64(x)-800)/800, (float64(y)-128)/128
				return 180 * (1 - 0.5*dx*dx) * (1 - 0.5*dy*dy)
			})})
	}
	permissive := verdict.Thresholds{Pass: 0.5, Reject: 0.8}
	wouldPass, n := 0, 0
	for _, f := range frames {
		for _, format := range []string{"jpeg", "png"} {
			var buf bytes.Buffer
			var err error
			if format == "png" {
				err = png.Encode(&buf, f.img)
			} else {
				err = jpeg.Encode(&buf, f.img, &jpeg.Options{Quality: 90})
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.AnalyzeBytes(context.Background(), f.name+"."+format, buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			v, err := a.Decide(permissive)
			if err != nil {
				t.Fatal(err)
			}
			n++
			reason := verdict.CautionReasons(a.Cautions)
			if v.Decision != verdict.Review || !strings.HasPrefix(reason, "no steel texture: ") && !strings.HasPrefix(reason, "implausible image: ") ||
				!strings.Contains(v.Recommendation, reason) {
				t.Errorf("%s (%s): %s, %q", f.name, format, v.Decision, v.Recommendation)
			}
			if plain, _ := verdict.Decide(a.Probabilities(), permissive, nil); plain.Decision == verdict.Pass {
				wouldPass++
			}
		}
	}
	t.Logf("%d frames without steel, all to REVIEW; without the plausibility checks the bundled model would have auto-passed %d of them at 0.50/0.80", n, wouldPass)
}
