package models_test

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/inference"
	"steelinspect/internal/testimg"
	"steelinspect/models"
	"steelinspect/verdict"
)

func openBundled(t *testing.T) *inference.Engine {
	t.Helper()
	e, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestBundledModelKnowsItsHeldoutStrips: the bundled model measures
// familiarity, and at least 99 % of its own held-out strips (both
// synthetic sets) count as familiar.
func TestBundledModelKnowsItsHeldoutStrips(t *testing.T) {
	e := openBundled(t)
	if !e.HasFamiliarity() {
		t.Fatal("the bundled model has no familiarity statistics")
	}
	for _, set := range []string{"heldout", "heldout-wide"} {
		r := heldoutSet(t, e, set)
		familiar := 1 - float64(r.Unfamiliar)/float64(r.Strip.Strips)
		t.Logf("%s: %d of %d strips unfamiliar (limit %.2f), %d implausible", set, r.Unfamiliar, r.Strip.Strips, r.FamiliarityLimit, r.Implausible)
		if familiar < 0.99 {
			t.Errorf("%s: only %.1f%% of the model's held-out strips are familiar, want at least 99%%", set, 100*familiar)
		}
		if r.Implausible != 0 {
			t.Errorf("%s: %d real-looking strips called implausible", set, r.Implausible)
		}
	}
}

// TestBundledModelSendsForeignImagesToReview: camera faults and pictures
// that are not steel are never decided automatically, whatever the model
// scores them; each goes to REVIEW with the reason a person needs.
func TestBundledModelSendsForeignImagesToReview(t *testing.T) {
	e := openBundled(t)
	r := rand.New(rand.NewPCG(14, 1))
	noise := image.NewGray(image.Rect(0, 0, 1600, 256))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(r.IntN(256))
	}
	cases := []struct {
		name string
		data []byte
		kind verdict.CautionKind
		says string
	}{
		{"black strip", testimg.PNG(image.NewGray(image.Rect(0, 0, 1600, 256))), verdict.CautionImplausible, "black frame"},
		{"uniform grey strip", testimg.PNG(uniform(1600, 256, 128)), verdict.CautionImplausible, "nearly uniform"},
		{"white strip", testimg.PNG(uniform(1600, 256, 255)), verdict.CautionImplausible, "saturated"},
		{"1x1 image", testimg.PNG(uniform(1, 1, 128)), verdict.CautionImplausible, "too small"},
		{"16x16 image", testimg.PNG(uniform(16, 16, 90)), verdict.CautionImplausible, "too small"},
		{"white-noise strip", testimg.PNG(noise), verdict.CautionUnfamiliar, "unfamiliar strip: "},
	}
	// Go's test photographs: a colour one is implausible before the model
	// looks at it; a grey one must be unfamiliar to the model
	for _, p := range []struct {
		name string
		kind verdict.CautionKind
		says string
	}{
		{"image/testdata/video-001.png", verdict.CautionImplausible, "colour picture"},
		{"image/png/testdata/benchRGB.png", verdict.CautionUnfamiliar, "unfamiliar strip: "},
		{"image/png/testdata/benchGray.png", verdict.CautionUnfamiliar, "unfamiliar strip: "},
	} {
		data, err := os.ReadFile(filepath.Join(goroot(t), "src", p.name))
		if err != nil {
			t.Fatalf("Go's test picture %s: %v", p.name, err)
		}
		cases = append(cases, struct {
			name string
			data []byte
			kind verdict.CautionKind
			says string
		}{"photograph " + filepath.Base(p.name), data, p.kind, p.says})
	}
	for _, c := range cases {
		a, err := e.AnalyzeBytes(context.Background(), c.name, c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		v, err := a.Decide(verdict.DefaultThresholds)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []verdict.CautionKind
		for _, k := range v.Cautions {
			kinds = append(kinds, k.Kind)
		}
		t.Logf("%s: %s, confidence %.3f, familiarity %+v, cautions %v", c.name, v.Decision, v.Confidence, a.Familiarity, kinds)
		if v.Decision != verdict.Review {
			t.Errorf("%s: %s, want REVIEW", c.name, v.Decision)
		}
		found := false
		for _, k := range v.Cautions {
			found = found || (k.Kind == c.kind && strings.Contains(k.Reason, c.says))
		}
		if !found {
			t.Errorf("%s: cautions %+v, want a %s one saying %q", c.name, v.Cautions, c.kind, c.says)
		}
		if !strings.Contains(v.Recommendation, c.says) {
			t.Errorf("%s: recommendation %q does not give the reason", c.name, v.Recommendation)
		}
		if len(a.Patches) == 0 {
			t.Errorf("%s: no patch probabilities to show", c.name)
		}
	}
}

func uniform(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// goroot is the Go installation the tests run with (`go env GOROOT`),
// whose source tree holds the test pictures used above.
func goroot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestDomainFeaturesAreWhatTheCheckScores: the vector Engine.DomainFeatures
// gives (what training/domain_check.py --through-engine fits the check on,
// through tools/vectors) scores, under the bundled model's check, the
// domain score the engine reports for the same strip, on a strip of one
// band and on one of three.
func TestDomainFeaturesAreWhatTheCheckScores(t *testing.T) {
	e := openBundled(t)
	check := e.Manifest().DomainCheck()
	if check == nil {
		t.Fatal("the bundled model has no validated-domain check")
	}
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "crazing.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := inference.DecodeImage(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	tall := image.NewGray(image.Rect(0, 0, 1600, 512))
	draw.Draw(tall, image.Rect(0, 0, 1600, 256), img.Image, image.Point{}, draw.Src)
	draw.Draw(tall, image.Rect(0, 256, 1600, 512), img.Image, image.Point{}, draw.Src)
	var tallPNG bytes.Buffer
	if err := png.Encode(&tallPNG, tall); err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{"1600x256.jpg": data, "1600x512.png": tallPNG.Bytes()} {
		a, err := e.AnalyzeBytes(context.Background(), name, raw)
		if err != nil {
			t.Fatal(err)
		}
		pic, err := inference.DecodeImage(raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		if a.Familiarity == nil || a.Familiarity.Domain == nil {
			t.Fatalf("%s: no domain score", name)
		}
		vec, err := e.DomainFeatures(context.Background(), pic.Image)
		if err != nil {
			t.Fatal(err)
		}
		if len(vec) != check.Dim {
			t.Fatalf("%s: %d values, the check reads %d", name, len(vec), check.Dim)
		}
		f := make([]float32, len(vec))
		for i, v := range vec {
			f[i] = float32(v)
		}
		if got, want := check.Score(f), a.Familiarity.Domain.Score; math.Abs(got-want) > 0.002 {
			t.Errorf("%s: the vector scores %.4f, the engine reported %.4f", name, got, want)
		}
	}
}
