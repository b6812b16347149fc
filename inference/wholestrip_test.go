package inference

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noiseStrip is a w×h grey image of random pixels (seeded), so every
// window has a different mean.
func noiseStrip(w, h int, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// edgeMean is the tiny models' output for a window that may reach past the
// image: the mean over the window with edge pixels repeated.
func edgeMean(img *image.Gray, x0, y0, size int) float64 {
	b := img.Bounds()
	sum := 0.0
	for y := y0; y < y0+size; y++ {
		for x := x0; x < x0+size; x++ {
			sum += float64(img.GrayAt(min(x, b.Dx()-1), min(y, b.Dy()-1)).Y)
		}
	}
	return sum / float64(size*size) / 255
}

// On sizes whose tiling lies on the 32-px grid (the 1600×256 strip, wide
// images cut into several runs, several rows) the whole-strip engine gives
// the per-patch engine's rectangles and probabilities.
func TestWholeStripMatchesPerPatch(t *testing.T) {
	strip := openTiny(t, "tiny-strip", EngineOptions{})
	patch := openTiny(t, "tiny-nchw", EngineOptions{})
	for _, size := range []image.Point{{1600, 256}, {4096, 256}, {1600, 512}, {2560, 384}} {
		img := noiseStrip(size.X, size.Y, uint64(size.X+size.Y))
		runsBefore := strip.Runs()
		wr, wp, err := strip.Score(context.Background(), img)
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		runs := strip.Runs() - runsBefore
		pr, pp, err := patch.Score(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if len(wr) != len(pr) {
			t.Fatalf("%v: %d windows, per-patch has %d", size, len(wr), len(pr))
		}
		for i := range wr {
			if wr[i] != pr[i] || math.Abs(float64(wp[i]-pp[i])) > 1e-5 {
				t.Errorf("%v patch %d: %v %.6f, per-patch %v %.6f", size, i, wr[i], wp[i], pr[i], pp[i])
			}
		}
		// One backbone run per row of patches while it fits maxChunkWidth
		// (a 1600×256 strip is a single run); wider rows take more.
		rows := int64(len(patchStarts(size.Y, 256, 128)))
		if (size.X <= maxChunkWidth && runs != rows) || (size.X > maxChunkWidth && runs < 2*rows) {
			t.Errorf("%v: %d model runs for %d row(s) of patches", size, runs, rows)
		}
	}
}

// Sides that are not multiples of the cell, and images smaller than a
// patch: the windows move onto the grid, still cover every pixel, and score
// the edge-padded pixels as the per-patch engine pads them.
func TestWholeStripOddSizes(t *testing.T) {
	e := openTiny(t, "tiny-strip", EngineOptions{})
	for _, size := range []image.Point{{1610, 256}, {1601, 300}, {100, 80}, {700, 257}} {
		img := noiseStrip(size.X, size.Y, 7)
		rects, probs, err := e.Score(context.Background(), img)
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		covered := make([]bool, size.X*size.Y)
		for i, r := range rects {
			if r.Min.X%32 != 0 || r.Min.Y%32 != 0 || !r.In(image.Rect(0, 0, size.X, size.Y)) || r.Empty() {
				t.Errorf("%v: window %v is off the grid or outside the image", size, r)
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					covered[y*size.X+x] = true
				}
			}
			if want := edgeMean(img, r.Min.X, r.Min.Y, 256); math.Abs(float64(probs[i])-want) > 5e-5 {
				t.Errorf("%v window %v: %.6f, want %.6f", size, r, probs[i], want)
			}
		}
		for i, c := range covered {
			if !c {
				t.Errorf("%v: pixel %d,%d is in no window", size, i%size.X, i/size.X)
				break
			}
		}
	}
}

func TestWholeStripManifestChecks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "testdata", "models")
	n := 0
	copyModel := func(onnxName, manifestName string, edit func(string) string) string {
		n++
		data, err := os.ReadFile(filepath.Join(src, onnxName+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, onnxName+".onnx"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := os.ReadFile(filepath.Join(src, manifestName+".manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("case%d.manifest.json", n))
		if err := os.WriteFile(p, []byte(edit(string(m))), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stripHash := func(s string) string {
		m, _ := ParseManifest([]byte(s))
		data, err := os.ReadFile(filepath.Join(src, "tiny-nchw.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return strings.Replace(s, `"sha256": "`+m.SHA256+`"`, `"sha256": "`+hex.EncodeToString(sum[:])+`"`, 1)
	}
	cases := []struct {
		name, path, want string
	}{
		{"no cell", copyModel("tiny-strip", "tiny-strip", func(s string) string {
			return strings.Replace(s, `"cell": 32`, `"cell": 0`, 1)
		}), "input.cell 0"},
		{"cell not dividing", copyModel("tiny-strip", "tiny-strip", func(s string) string {
			return strings.Replace(s, `"cell": 32`, `"cell": 48`, 1)
		}), "input.cell 48"},
		{"unknown variant", copyModel("tiny-strip", "tiny-strip", func(s string) string {
			return strings.Replace(s, `"whole-strip"`, `"sliding"`, 1)
		}), `variant "sliding"`},
		{"per-patch graph said to be whole-strip", copyModel("tiny-nchw", "tiny-strip", func(s string) string {
			return strings.Replace(stripHash(s), `"file": "tiny-strip.onnx"`, `"file": "tiny-nchw.onnx"`, 1)
		}), "free height and width"},
		{"whole-strip graph said to be per-patch", copyModel("tiny-strip", "tiny-strip", func(s string) string {
			return strings.Replace(strings.Replace(s, `"whole-strip"`, `"per-patch"`, 1), `"cell": 32`, `"cell": 0`, 1)
		}), "does not match its manifest"},
	}
	for _, c := range cases {
		if _, err := OpenModel(c.path, EngineOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// Pipeline prepares files one ahead, in order; a bad file's error comes
// through in its place and the rest are still scored; the results equal
// AnalyzeFile's.
func TestPipelineInOrder(t *testing.T) {
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	dir := t.TempDir()
	var paths []string
	for i, v := range []uint8{40, 200, 0, 120} {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		data := encodePNG(t, bandStrip(1600, 256, 0, 800, v))
		if v == 0 {
			data = []byte("not an image")
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "missing.png"))
	k := 0
	for p := range e.Pipeline(context.Background(), paths) {
		if p.Name() != paths[k] {
			t.Errorf("result %d is %s, want %s", k, p.Name(), paths[k])
		}
		got, err := e.AnalyzePrepared(context.Background(), p)
		want, wantErr := e.AnalyzeFile(context.Background(), paths[k])
		switch {
		case (err == nil) != (wantErr == nil):
			t.Errorf("%s: error %v, AnalyzeFile says %v", paths[k], err, wantErr)
		case err == nil && (got.Image.SHA256 != want.Image.SHA256 || got.Patches[0].Probability != want.Patches[0].Probability ||
			got.Timings.DecodeMS <= 0 || got.Timings.TotalMS < got.Timings.InferenceMS):
			t.Errorf("%s: %+v, want %+v", paths[k], got.Patches[0], want.Patches[0])
		}
		k++
	}
	if k != len(paths) {
		t.Errorf("%d results for %d paths", k, len(paths))
	}
	// Cancelled: the channel closes without delivering everything.
	ctx, cancel := context.WithCancel(context.Background())
	ch := e.Pipeline(ctx, append(paths, paths...))
	<-ch
	cancel()
	n := 0
	for range ch {
		n++
	}
	if n > 3 {
		t.Errorf("%d results after cancelling", n)
	}
}
