package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// steelGray is a stand-in for steel texture: white noise blurred over a
// few pixels (correlated, as steel is) with streaks along the rows,
// scaled to the given mean and spread.
func steelGray(w, h int, mean, spread float64, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 3))
	f := make([]float64, w*h)
	for i := range f {
		f[i] = r.NormFloat64()
	}
	f = boxBlur(f, w, h, 2)
	streak := make([]float64, h)
	for y := range streak {
		streak[y] = 0.5 * r.NormFloat64()
	}
	var s, sq float64
	for y := range h {
		for x := range w {
			v := f[y*w+x] + streak[y]*0.3
			f[y*w+x] = v
			s += v
			sq += v * v
		}
	}
	m := s / float64(w*h)
	sd := math.Sqrt(sq/float64(w*h) - m*m)
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range f {
		img.Pix[i] = clampGrey(mean + (v-m)/sd*spread)
	}
	return img
}

// boxBlur averages f over (2r+1)² pixels (edges clamped).
func boxBlur(f []float64, w, h, r int) []float64 {
	tmp := make([]float64, len(f))
	out := make([]float64, len(f))
	for y := range h {
		for x := range w {
			var s float64
			for d := -r; d <= r; d++ {
				s += f[y*w+min(w-1, max(0, x+d))]
			}
			tmp[y*w+x] = s / float64(2*r+1)
		}
	}
	for y := range h {
		for x := range w {
			var s float64
			for d := -r; d <= r; d++ {
				s += tmp[min(h-1, max(0, y+d))*w+x]
			}
			out[y*w+x] = s / float64(2*r+1)
		}
	}
	return out
}

func clampGrey(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// frame is a w×h grey frame of f(x, y) plus Gaussian noise of spread
// sigma: what a camera gives with no steel under it.
func frame(w, h int, sigma float64, seed uint64, f func(x, y int) float64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 5))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*img.Stride+x] = clampGrey(f(x, y) + sigma*r.NormFloat64())
		}
	}
	return img
}

// stripes is a frame whose rows (or columns) each carry their own offset
// of spread stripe, as a failing sensor's banding does.
func stripes(rows bool, level, stripe, sigma float64, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 7))
	off := make([]float64, 1600)
	for i := range off {
		off[i] = stripe * r.NormFloat64()
	}
	return frame(1600, 256, sigma, seed, func(x, y int) float64 {
		if rows {
			return level + off[y]
		}
		return level + off[x]
	})
}

// gradients are smooth frames a lamp or a lens can give.
var gradients = []struct {
	name string
	f    func(x, y int) float64
}{
	{"horizontal", func(x, y int) float64 { return 20 + 180*float64(x)/1600 }},
	{"vertical", func(x, y int) float64 { return 30 + 150*float64(y)/256 }},
	{"diagonal", func(x, y int) float64 { return 20 + 100*float64(x)/1600 + 80*float64(y)/256 }},
	{"vignette", func(x, y int) float64 {
		dx, dy := (float64(x)-800)/800, (float64(y)-128)/128
		return 180 * (1 - 0.5*dx*dx) * (1 - 0.5*dy*dy)
	}},
	{"hot spot", func(x, y int) float64 {
		dx, dy := (float64(x)-1200)/200, (float64(y)-60)/80
		return 50 + 150*math.Exp(-(dx*dx+dy*dy)/2)
	}},
	{"into saturation", func(x, y int) float64 { u := (float64(x)*0.8 + float64(y)*3) / 1000; return 30 + 160*u*u }},
}

func encodeAs(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// noSteelCase is one generated frame and the reason it must get.
type noSteelCase struct {
	name string
	img  *image.Gray
	want string // substring of the reason
}

// noSteelFrames are the frames with no steel in them the check must catch.
func noSteelFrames() []noSteelCase {
	var cs []noSteelCase
	seed := uint64(100)
	for _, level := range []float64{10, 25, 40, 60, 80, 100, 120, 140} {
		for sigma := 1.0; sigma <= 6; sigma++ {
			seed++
			cs = append(cs, noSteelCase{fmt.Sprintf("flat %.0f±%.0f", level, sigma),
				frame(1600, 256, sigma, seed, func(int, int) float64 { return level }), "flat frame"})
		}
	}
	for _, rows := range []bool{true, false} {
		want := "vertical stripes"
		if rows {
			want = "horizontal stripes"
		}
		for _, level := range []float64{30, 120} {
			for _, stripe := range []float64{3, 10} {
				for _, sigma := range []float64{1, 4} {
					seed++
					cs = append(cs, noSteelCase{fmt.Sprintf("%s %.0f stripe %.0f noise %.0f", want, level, stripe, sigma),
						stripes(rows, level, stripe, sigma, seed), want})
				}
			}
		}
	}
	for _, g := range gradients {
		for _, sigma := range []float64{0, 1, 2, 4} {
			seed++
			cs = append(cs, noSteelCase{fmt.Sprintf("%s gradient noise %.0f", g.name, sigma), frame(1600, 256, sigma, seed, g.f), "gradient"})
		}
	}
	return cs
}

// Every generated frame with no steel in it goes to review, saved as PNG
// and as JPEG at quality 90, with a reason saying what it shows: flat grey
// with sensor noise (spread 1–6, brightness 10–140), a sensor's row or
// column stripes, or a smooth gradient. The darkest flat frames are black
// frames and the faintest nearly uniform, as before; the rest must be
// caught by their texture alone.
func TestNoSteelFramesAreCaught(t *testing.T) {
	worst := map[string]float64{}
	caught := map[string]int{}
	for _, c := range noSteelFrames() {
		for _, format := range []string{"png", "jpeg"} {
			d, err := DecodeImage(encodeAs(t, c.img, format), 0)
			if err != nil {
				t.Fatal(err)
			}
			reason := ImplausibleReason(d.Width, d.Height, d.Stats, nil)
			switch {
			case reason == "":
				t.Errorf("%s (%s): not caught (texture %.3f)", c.name, format, d.Stats.Texture.Score)
				continue
			case strings.HasPrefix(reason, "implausible image: black frame"), strings.HasPrefix(reason, "implausible image: nearly uniform"):
			case !strings.HasPrefix(reason, "no steel texture: ") || !strings.Contains(reason, c.want):
				t.Errorf("%s (%s): reason %q, want one about %q", c.name, format, reason, c.want)
			}
			caught[format]++
			worst[format] = max(worst[format], d.Stats.Texture.Score)
			// below the generic floor with room to spare, whatever check spoke first
			if d.Stats.Texture.Score > 0.6 {
				t.Errorf("%s (%s): texture %.3f, within 1.7× of the floor", c.name, format, d.Stats.Texture.Score)
			}
		}
	}
	t.Logf("caught %d PNG and %d JPEG frames; highest texture %.3f (PNG), %.3f (JPEG q90); the floor is 1",
		caught["png"], caught["jpeg"], worst["png"], worst["jpeg"])
}

// Texture-carrying frames are left alone: dark, bright with glints, black
// at an edge, lit in one band only, tall, stored as RGB.
func TestTextureKeepsSteel(t *testing.T) {
	dark := steelGray(1600, 256, 12, 8, 1)
	halfBlack := steelGray(1600, 256, 90, 25, 2)
	for y := range 256 {
		for x := range 1200 {
			halfBlack.Pix[y*halfBlack.Stride+x] = 0
		}
	}
	glints := steelGray(1600, 256, 190, 20, 3)
	for i := 0; i < len(glints.Pix); i += 13 {
		glints.Pix[i] = 255
	}
	narrow := steelGray(1600, 256, 2, 1, 4)
	band := steelGray(110, 256, 120, 20, 10)
	for y := range 256 {
		copy(narrow.Pix[y*narrow.Stride:y*narrow.Stride+110], band.Pix[y*band.Stride:])
	}
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"steel", steelGray(1600, 256, 100, 20, 5)},
		{"faint steel", steelGray(1600, 256, 120, 3, 6)},
		{"dark steel", dark},
		{"black but for one end", halfBlack},
		{"lit in a band 110 px wide", narrow},
		{"bright steel with glints", glints},
		{"tall camera", steelGray(256, 1600, 100, 20, 7)},
		{"a crop", steelGray(256, 256, 110, 5, 8)},
		{"grey steel stored as RGB", asRGB(steelGray(1600, 256, 100, 20, 9))},
	} {
		for _, format := range []string{"png", "jpeg"} {
			d, err := DecodeImage(encodeAs(t, c.img, format), 0)
			if err != nil {
				t.Fatal(err)
			}
			if r := ImplausibleReason(d.Width, d.Height, d.Stats, nil); r != "" {
				t.Errorf("%s (%s): %q (texture %.2f)", c.name, format, r, d.Stats.Texture.Score)
			}
		}
	}
}

func asRGB(g *image.Gray) *image.RGBA {
	img := image.NewRGBA(g.Bounds())
	for i, v := range g.Pix {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = v, v, v, 255
	}
	return img
}

// BenchmarkMeasureTexture measures the texture of one 1600×256 strip.
func BenchmarkMeasureTexture(b *testing.B) {
	img := steelGray(1600, 256, 100, 20, 1)
	b.ReportAllocs()
	for b.Loop() {
		MeasureTexture(img, 20)
	}
}

// A line's floors: half its least textured and smoothest good strips,
// never above the generic floors nor below MinTextureFloor; nil is the
// generic check, UnknownLine the most lenient.
func TestLineTextureFloors(t *testing.T) {
	var generic *LineTexture
	if generic.Floor() != 1 || generic.uniformFloor() != uniformStd {
		t.Errorf("generic floors %v %v", generic.Floor(), generic.uniformFloor())
	}
	smooth := &LineTexture{Strips: 100, Min: 0.08, P05: 0.8, Median: 2, StdMin: 0.9}
	if smooth.Floor() != 0.04 || smooth.uniformFloor() != 0.45 {
		t.Errorf("smooth line floors %v %v, want 0.04 and 0.45", smooth.Floor(), smooth.uniformFloor())
	}
	rough := &LineTexture{Strips: 100, Min: 5, P05: 8, Median: 60, StdMin: 11}
	if rough.Floor() != 1 || rough.uniformFloor() != uniformStd {
		t.Errorf("rough line floors %v %v: a line never raises the generic floors", rough.Floor(), rough.uniformFloor())
	}
	if UnknownLine.Floor() != MinTextureFloor || UnknownLine.uniformFloor() != 0 {
		t.Errorf("unknown line floors %v %v", UnknownLine.Floor(), UnknownLine.uniformFloor())
	}
	// a smooth strip: implausible by the generic floors, fine on its line
	st := ImageStats{Mean: 120, Std: 1.2, P1: 117, P99: 123, Texture: Texture{Score: 0.3, Judged: true, Pattern: PatternFlat}}
	if r := ImplausibleReason(256, 256, st, nil); !strings.Contains(r, "nearly uniform") {
		t.Errorf("generic: %q", r)
	}
	st.Std = 2.5
	if r := ImplausibleReason(256, 256, st, nil); r != NoTextureReason(PatternFlat) {
		t.Errorf("generic: %q", r)
	}
	st.Std = 1.2
	if r := ImplausibleReason(256, 256, st, smooth); r != "" {
		t.Errorf("on its line: %q", r)
	}
	// far smoother than the line's smoothest good strip
	st.Texture.Score = 0.01
	if r := ImplausibleReason(256, 256, st, smooth); r != NoTextureReason(PatternFlat) {
		t.Errorf("below the line: %q", r)
	}
	st.Std = 0.3
	if r := ImplausibleReason(256, 256, st, smooth); !strings.Contains(r, "nearly uniform") {
		t.Errorf("uniform below the line: %q", r)
	}
	// an image too clipped to judge is left to the other checks
	st = ImageStats{Mean: 120, Std: 30, P1: 0, P99: 250, Texture: Texture{}}
	if r := ImplausibleReason(1600, 256, st, nil); r != "" {
		t.Errorf("unjudged texture: %q", r)
	}
}

// FitLineTexture: figures of the judged strips; a strip with no texture
// beside the others is an outlier, left out; none judged, no line.
func TestFitLineTexture(t *testing.T) {
	var stats []ImageStats
	for i := range 40 {
		stats = append(stats, ImageStats{Std: 3 + float64(i), Texture: Texture{Score: 1 + float64(i)/10, Judged: true}})
	}
	stats = append(stats,
		ImageStats{Std: 0.5, Texture: Texture{Score: 0.001, Judged: true}}, // a camera fault among the good strips
		ImageStats{Std: 40, Texture: Texture{}})                            // too clipped to judge
	line, outlier := FitLineTexture(stats)
	if line == nil || line.Strips != 40 || line.Min != 1 || line.StdMin != 3 || line.Median < 2.9 || line.Median > 3.0 {
		t.Fatalf("line %+v", line)
	}
	for i, o := range outlier {
		if o != (i == 40) {
			t.Errorf("strip %d outlier %v", i, o)
		}
	}
	if l, _ := FitLineTexture([]ImageStats{{Std: 9}}); l != nil {
		t.Errorf("no strip judged: line %+v", l)
	}
}

// A manifest's line texture is optional (older manifests load), checked
// when present, and kept.
func TestManifestTexture(t *testing.T) {
	raw, err := os.ReadFile(tinyModel("tiny-nchw"))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := ParseManifest(raw); err != nil || m.Texture != nil {
		t.Fatalf("manifest without texture: %v %+v", err, m)
	}
	for _, c := range []struct {
		texture string
		ok      bool
	}{
		{`{"strips": 30, "min": 0.08, "p05": 0.8, "median": 2.1, "std_min": 0.9}`, true},
		{`{"strips": 0, "min": 0.08, "p05": 0.8, "median": 2.1, "std_min": 0.9}`, false},
		{`{"strips": 30, "min": -1, "p05": 0.8, "median": 2.1, "std_min": 0.9}`, false},
		{`{"strips": 30, "min": 3, "p05": 0.8, "median": 2.1, "std_min": 0.9}`, false},
	} {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		var tex any
		if err := json.Unmarshal([]byte(c.texture), &tex); err != nil {
			t.Fatal(err)
		}
		doc["texture"] = tex
		data, _ := json.Marshal(doc)
		m, err := ParseManifest(data)
		switch {
		case c.ok && (err != nil || m.Texture == nil || m.Texture.Strips != 30 || m.Texture.StdMin != 0.9):
			t.Errorf("%s: %v %+v", c.texture, err, m)
		case !c.ok && (err == nil || !strings.Contains(err.Error(), "texture")):
			t.Errorf("%s: accepted (%v)", c.texture, err)
		}
	}
}

// Through the engine, whatever the model: a frame with no steel goes to
// review with the reason; a model that knows a smooth line leaves that
// line's smooth steel to its scores, and still sends the flat frame to
// review.
func TestEngineJudgesTextureByTheModelsLine(t *testing.T) {
	m, onnx, err := LoadModelFiles(tinyModel("tiny-nchw"))
	if err != nil {
		t.Fatal(err)
	}
	smoothSteel := encodeAs(t, steelGray(1600, 256, 110, 1.4, 21), "png")
	// saved losslessly: JPEG-compressed noise can pass a line as smooth as this one
	flat := encodeAs(t, frame(1600, 256, 3, 22, func(int, int) float64 { return 110 }), "png")
	for _, c := range []struct {
		line                      *LineTexture
		steelFlagged, flatFlagged bool
	}{
		{nil, true, true},
		{&LineTexture{Strips: 200, Min: 0.06, P05: 0.5, Median: 2, StdMin: 0.9}, false, true},
	} {
		mm := *m
		mm.Texture = c.line
		e, err := NewEngine(&mm, onnx, "tiny", EngineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			name    string
			data    []byte
			flagged bool
		}{{"smooth steel", smoothSteel, c.steelFlagged}, {"flat frame", flat, c.flatFlagged}} {
			a, err := e.AnalyzeBytes(context.Background(), s.name, s.data)
			if err != nil {
				t.Fatal(err)
			}
			v, err := a.Decide(verdict.Thresholds{Pass: 0.5, Reject: 0.8})
			if err != nil {
				t.Fatal(err)
			}
			flagged := v.Decision == verdict.Review && len(v.Cautions) == 1 && v.Cautions[0].Kind == verdict.CautionImplausible
			if flagged != s.flagged {
				t.Errorf("line %+v, %s: %s %q", c.line, s.name, v.Decision, v.Recommendation)
			}
			if s.name == "flat frame" && !strings.Contains(v.Recommendation, NoTextureReason(PatternFlat)) {
				t.Errorf("line %+v, flat frame: recommendation %q", c.line, v.Recommendation)
			}
		}
		e.Close()
	}
}

// A grey image that is part of a larger one is measured on its own pixels.
func TestTextureOfASubImage(t *testing.T) {
	big := steelGray(800, 400, 100, 20, 31)
	flat := frame(300, 200, 3, 32, func(int, int) float64 { return 90 })
	for y := range 200 {
		copy(big.Pix[(100+y)*big.Stride+200:], flat.Pix[y*flat.Stride:(y+1)*flat.Stride])
	}
	sub := big.SubImage(image.Rect(200, 100, 500, 300)).(*image.Gray)
	a, b := MeasureTexture(sub, 3), MeasureTexture(flat, 3)
	if a != b || a.Score >= 1 {
		t.Errorf("sub-image %+v, the same pixels on their own %+v", a, b)
	}
}
