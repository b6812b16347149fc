package inference

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"steelinspect/verdict"
)

// Per-stage benchmarks for a 1600×256 demo strip, so a regression in one
// stage shows on its own: decode, preprocessing (per-patch tiles and the
// whole-strip band), and the decision. The model stage is measured with the
// real models in models/ (BenchmarkVariants there).

func demoStrip(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "scratches.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkStageDecode is DecodeImage on the strip, which takes the
// libjpeg-turbo path; BenchmarkStageDecodeStdlib decodes the same bytes the
// way DecodeImage does any other image (imaging over image/jpeg), for the
// comparison.
func BenchmarkStageDecode(b *testing.B) {
	data := demoStrip(b)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	if _, ok, err := decodeGrayJPEG(data, cfg); !ok || err != nil {
		b.Fatalf("the demo strip does not take the libjpeg-turbo path (ok %v, err %v)", ok, err)
	}
	for b.Loop() {
		if _, err := DecodeImage(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStageDecodeStdlib(b *testing.B) {
	data := demoStrip(b)
	for b.Loop() {
		if _, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPreprocess(b *testing.B, wholeStrip bool) {
	d, err := DecodeImage(demoStrip(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	pre := &Preprocessing{Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	rects := TilePatches(1600, 256, 256, 128)
	buf := make([]float32, len(rects)*3*256*256)
	for b.Loop() {
		planes := toPlanes(d.Image, 3)
		if wholeStrip {
			fillRegion(buf[:3*256*1600], planes, image.Point{}, 1600, 256, "NCHW", pre)
			continue
		}
		for i, r := range rects {
			fillPatch(buf[i*3*256*256:(i+1)*3*256*256], planes, r, 256, "NCHW", pre)
		}
	}
}

func BenchmarkStagePreprocessPatches(b *testing.B) { benchPreprocess(b, false) }
func BenchmarkStagePreprocessStrip(b *testing.B)   { benchPreprocess(b, true) }

// BenchmarkStageEngineOverhead is everything but the model: decode, tiling,
// preprocessing and decision through the real engine on the tiny model.
func BenchmarkStageEngineOverhead(b *testing.B) {
	data := demoStrip(b)
	e, err := OpenModel(tinyModel("tiny-strip"), EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for b.Loop() {
		a, err := e.AnalyzeBytes(context.Background(), "s.jpg", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Decide(verdict.DefaultThresholds); err != nil {
			b.Fatal(err)
		}
	}
}
