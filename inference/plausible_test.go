package inference

import (
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"

	"steelinspect/verdict"
)

func randomGray(w, h int, lo, hi int, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(lo + r.IntN(hi-lo+1))
	}
	return img
}

func colourful() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	return img
}

// greyRGB is a textured grey strip saved with three equal channels, as the
// Severstal JPEGs are.
func greyRGB() image.Image {
	g := steelGray(1600, 256, 120, 40, 11)
	img := image.NewRGBA(g.Bounds())
	for i, v := range g.Pix {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = v, v, v, 255
	}
	return img
}

func uniformGray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func TestImplausibleReason(t *testing.T) {
	// a dark but real-looking strip: the darkest real Severstal strip has a
	// mean of 7.7 and a 99th percentile of 36
	dark := steelGray(1600, 256, 14, 9, 1)
	// a strip whose few bright pixels are clipped (specular glints)
	glints := steelGray(1600, 256, 125, 20, 2)
	for i := 0; i < len(glints.Pix); i += 11 {
		glints.Pix[i] = 255
	}
	white := randomGray(1600, 256, 248, 255, 3)
	faint := randomGray(1600, 256, 127, 129, 4) // spread 0.8: nothing imaged
	rgbGrey := image.NewRGBA(image.Rect(0, 0, 1600, 256))
	for i := 0; i < len(rgbGrey.Pix); i += 4 {
		rgbGrey.Pix[i], rgbGrey.Pix[i+1], rgbGrey.Pix[i+2], rgbGrey.Pix[i+3] = 90, 90, 90, 255
	}
	for _, c := range []struct {
		name string
		img  image.Image
		want string // substring of the reason; "" for plausible
	}{
		{"textured strip", steelGray(1600, 256, 130, 35, 5), ""},
		{"dark real-like strip", dark, ""},
		{"strip with glints", glints, ""},
		{"tall camera", steelGray(256, 1600, 130, 35, 6), ""},
		{"black frame", uniformGray(1600, 256, 0), "black frame"},
		{"near-black noise", randomGray(1600, 256, 0, 12, 7), "black frame"},
		{"white frame", white, "saturated"},
		{"uniform grey", uniformGray(1600, 256, 128), "nearly uniform"},
		{"faint noise", faint, "nearly uniform"},
		{"uniform colour image", rgbGrey, "nearly uniform"},
		{"1x1", uniformGray(1, 1, 128), "too small"},
		{"16x16 textured", randomGray(16, 16, 0, 255, 8), "too small"},
		{"63 px high", randomGray(1600, 63, 0, 255, 9), "too small"},
		{"line", randomGray(6400, 128, 0, 255, 10), "aspect ratio"},
		{"colour picture", colourful(), "colour picture"},
		{"grey strip stored as RGB", greyRGB(), ""},
		{"white noise", randomGray(1600, 256, 60, 200, 12), "no steel texture: flat frame"},
		{"a crop of white noise", randomGray(256, 256, 90, 150, 13), "no steel texture: flat frame"},
	} {
		b := c.img.Bounds()
		got := ImplausibleReason(b.Dx(), b.Dy(), MeasureImage(c.img), nil)
		switch {
		case c.want == "" && got != "":
			t.Errorf("%s: flagged %q", c.name, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s: reason %q, want one about %q", c.name, got, c.want)
		case c.want != "" && (!strings.HasPrefix(got, "implausible image: ") && !strings.HasPrefix(got, "no steel texture: ") || strings.Contains(got, "\n")):
			t.Errorf("%s: reason %q is not one line starting 'implausible image: ' or 'no steel texture: '", c.name, got)
		}
	}
}

func TestMeasureImage(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 100))
	for x := 0; x < 200; x++ {
		for y := 0; y < 100; y++ {
			v := uint8(100)
			if x < 100 {
				v = 200
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	st := MeasureImage(img)
	if st.Mean < 149 || st.Mean > 151 || st.Std < 49 || st.Std > 51 || st.P1 != 100 || st.P99 != 200 || st.SaturatedShare != 0 {
		t.Errorf("stats %+v, want mean 150, std 50, p1 100, p99 200, nothing saturated", st)
	}
}

// A strip with a caution is REVIEW whatever its probabilities, with the
// reason as its recommendation; the patch zones still follow them.
func TestDecideWithCautions(t *testing.T) {
	c := []verdict.Caution{{Kind: verdict.CautionUnfamiliar, Reason: "unfamiliar strip: the model was not trained on strips like this (score 3.40, limit 1.80)"}}
	for _, probs := range [][]float32{{0.01, 0.02}, {0.99, 0.5}} {
		v, err := verdict.Decide(probs, verdict.DefaultThresholds, c)
		if err != nil {
			t.Fatal(err)
		}
		if v.Decision != verdict.Review || v.ConfidenceLevel != "Uncertain" || !strings.Contains(v.Recommendation, "score 3.40, limit 1.80") {
			t.Errorf("%v: %s %s %q", probs, v.Decision, v.ConfidenceLevel, v.Recommendation)
		}
		if len(v.Cautions) != 1 || v.Cautions[0].Kind != verdict.CautionUnfamiliar {
			t.Errorf("%v: cautions %+v", probs, v.Cautions)
		}
		plain, _ := verdict.Decide(probs, verdict.DefaultThresholds, nil)
		for i := range probs {
			if v.Zones[i] != plain.Zones[i] {
				t.Errorf("%v: patch %d zone %s, without caution %s", probs, i, v.Zones[i], plain.Zones[i])
			}
		}
		if plain.Decision == verdict.Review || plain.Cautions != nil {
			t.Errorf("%v without cautions: %s %+v", probs, plain.Decision, plain.Cautions)
		}
	}
}
