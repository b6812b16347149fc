package inference

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEngineExactProbabilities(t *testing.T) {
	// Columns 300..700 bright: each patch's mean brightness differs.
	img := bandStrip(1600, 256, 300, 700, 200)
	data := encodePNG(t, img)
	for _, c := range []struct {
		model string
		want  func(m float64) float64
	}{
		{"tiny-nchw", func(m float64) float64 { return m }},
		{"tiny-nhwc", func(m float64) float64 { return m }},
		{"tiny-logit", func(m float64) float64 { return 1 / (1 + math.Exp(-8*(m-0.5))) }},
	} {
		t.Run(c.model, func(t *testing.T) {
			e := openTiny(t, c.model, EngineOptions{})
			a, err := e.AnalyzeBytes(context.Background(), "band.png", data)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Patches) != 12 {
				t.Fatalf("%d patches, want 12", len(a.Patches))
			}
			if e.Runs() != 1 {
				t.Errorf("%d runs for one strip, want all patches in one run", e.Runs())
			}
			for _, p := range a.Patches {
				r := image.Rect(p.X, p.Y, p.X+p.W, p.Y+p.H)
				want := c.want(meanOver(img, r))
				// float32 summation over 196,608 inputs in ReduceMean: ~1e-4 error.
				if math.Abs(float64(p.Probability)-want) > 2e-4 {
					t.Errorf("patch %v: probability %v, want %v", r, p.Probability, want)
				}
			}
			if a.Image.Width != 1600 || a.Image.Height != 256 || a.Image.Format != "png" || len(a.Image.SHA256) != 64 {
				t.Errorf("image info %+v", a.Image)
			}
			if a.Model.Name != c.model {
				t.Errorf("model identity %+v", a.Model)
			}
		})
	}
}

func TestEngineChunksLargeImages(t *testing.T) {
	img := bandStrip(1600, 256, 0, 800, 255)
	data := encodePNG(t, img)
	whole := openTiny(t, "tiny-nchw", EngineOptions{})
	chunked := openTiny(t, "tiny-nchw", EngineOptions{MaxBatch: 5})
	a, err := whole.AnalyzeBytes(context.Background(), "a", data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := chunked.AnalyzeBytes(context.Background(), "b", data)
	if err != nil {
		t.Fatal(err)
	}
	if chunked.Runs() != 3 {
		t.Errorf("12 patches with max batch 5 took %d runs, want 3", chunked.Runs())
	}
	for i := range a.Patches {
		if a.Patches[i] != b.Patches[i] {
			t.Errorf("patch %d differs: %+v vs %+v", i, a.Patches[i], b.Patches[i])
		}
	}
}

func TestEngineSmallImageIsPadded(t *testing.T) {
	// A 100×50 white image padded by edge repetition stays white: prob 1.
	img := image.NewGray(image.Rect(0, 0, 100, 50))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	a, err := e.AnalyzeBytes(context.Background(), "small", encodePNG(t, img))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Patches) != 1 || a.Patches[0].W != 100 || a.Patches[0].H != 50 || math.Abs(float64(a.Patches[0].Probability)-1) > 1e-6 {
		t.Errorf("small image patches %+v", a.Patches)
	}
}

func TestEngineImageKinds(t *testing.T) {
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	ctx := context.Background()
	// 16-bit grey at 0x8080 is 128 in 8-bit terms.
	g16 := image.NewGray16(image.Rect(0, 0, 300, 256))
	for i := 0; i < len(g16.Pix); i += 2 {
		g16.Pix[i], g16.Pix[i+1] = 0x80, 0x80
	}
	// Paletted: every pixel palette entry 1 = mid grey.
	pal := image.NewPaletted(image.Rect(0, 0, 300, 256), color.Palette{color.Gray{0}, color.Gray{128}})
	for i := range pal.Pix {
		pal.Pix[i] = 1
	}
	// Colour RGB: (255, 0, 0) is scored as grey, its luma 0.299·255 = 76.
	rgb := image.NewNRGBA(image.Rect(0, 0, 300, 256))
	for i := 0; i < len(rgb.Pix); i += 4 {
		rgb.Pix[i], rgb.Pix[i+3] = 255, 255
	}
	for _, c := range []struct {
		name string
		data []byte
		want float64
	}{
		{"gray16.png", encodePNG(t, g16), 128.0 / 255},
		{"paletted.png", encodePNG(t, pal), 128.0 / 255},
		{"rgb.png", encodePNG(t, rgb), 76.0 / 255},
	} {
		a, err := e.AnalyzeBytes(ctx, c.name, c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, p := range a.Patches {
			if math.Abs(float64(p.Probability)-c.want) > 1e-4 {
				t.Errorf("%s: patch prob %v, want %v", c.name, p.Probability, c.want)
			}
		}
	}
	// CMYK JPEG written by ImageMagick decodes and scores.
	cmyk, err := os.ReadFile(filepath.Join("..", "testdata", "images", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.AnalyzeBytes(ctx, "cmyk.jpg", cmyk)
	if err != nil || len(a.Patches) != 1 || a.Image.Width != 64 {
		t.Errorf("cmyk jpeg: %v %+v", err, a.Image)
	}
}

func TestEXIFOrientationApplied(t *testing.T) {
	// A 256 wide × 512 high JPEG tagged "rotate 90° clockwise" is a 512×256 strip.
	tall := image.NewGray(image.Rect(0, 0, 256, 512))
	for y := 0; y < 256; y++ { // top half bright
		for x := 0; x < 256; x++ {
			tall.Pix[y*tall.Stride+x] = 255
		}
	}
	data := withEXIFOrientation(encodeJPEG(t, tall), 6)
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	a, err := e.AnalyzeBytes(context.Background(), "rotated.jpg", data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Image.Width != 512 || a.Image.Height != 256 {
		t.Fatalf("oriented size %dx%d, want 512x256", a.Image.Width, a.Image.Height)
	}
	// Rotating clockwise puts the bright top half on the right.
	first, last := a.Patches[0].Probability, a.Patches[len(a.Patches)-1].Probability
	if first > 0.05 || last < 0.95 {
		t.Errorf("after rotation left patch %v right patch %v; want dark left, bright right", first, last)
	}
}

func TestBadImagesGiveClearErrors(t *testing.T) {
	good := encodeJPEG(t, bandStrip(400, 256, 0, 100, 255))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty.png", nil, "empty file"},
		{"text.png", []byte("this is not an image at all\n"), "not a supported image"},
		{"truncated.jpg", good[:len(good)/2], "corrupt jpeg"},
		{"pdf.png", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n"), "not a supported image"},
		{"huge.png", pngHeaderOnly(60000, 60000), "60000×60000"},
		{"zero.png", pngHeaderOnly(0, 10), "png"},
	}
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	for _, c := range cases {
		_, err := e.AnalyzeBytes(context.Background(), c.name, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
	}
	if e.Runs() != 0 {
		t.Errorf("bad images reached the model (%d runs)", e.Runs())
	}
	// The engine keeps working after bad input.
	if _, err := e.AnalyzeBytes(context.Background(), "good.jpg", good); err != nil {
		t.Errorf("good image after bad ones: %v", err)
	}
}

func TestAnalyzeFileErrors(t *testing.T) {
	e := openTiny(t, "tiny-nchw", EngineOptions{})
	dir := t.TempDir()
	if _, err := e.AnalyzeFile(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("folder: %v", err)
	}
	if _, err := e.AnalyzeFile(context.Background(), filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing: %v", err)
	}
}

func TestModelRefusals(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "testdata", "models")
	onnx, err := os.ReadFile(filepath.Join(src, "tiny-nchw.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(src, "tiny-nchw.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("tiny-nchw.onnx", onnx)
	edit := func(from, to string) []byte {
		if !strings.Contains(string(manifest), from) {
			t.Fatalf("manifest lacks %q", from)
		}
		return []byte(strings.Replace(string(manifest), from, to, 1))
	}
	cases := []struct {
		name     string
		manifest []byte
		want     string
	}{
		{"hash", edit(`"sha256": "e`, `"sha256": "f`), "hash mismatch"},
		{"channels", edit(`"channels": 3`, `"channels": 1`), "preprocessing.mean"},
		{"patch", edit(`"patch_size": 256`, `"patch_size": 224`), "does not match its manifest"},
		{"layout", edit(`"layout": "NCHW"`, `"layout": "NHWC"`), "does not match its manifest"},
		{"input name", edit(`"name": "input"`, `"name": "images"`), `input is named "input"`},
		{"output name", edit(`"name": "probability"`, `"name": "score"`), `no output named "score"`},
		{"kind", edit(`"kind": "probability"`, `"kind": "odds"`), "output.kind"},
		{"thresholds", edit(`"pass": 0.4`, `"pass": 0.9`), "out of order"},
		{"unknown field", edit(`"variant"`, `"varaint"`), "unknown field"},
	}
	for _, c := range cases {
		p := write(c.name+".manifest.json", c.manifest)
		_, err := OpenModel(p, EngineOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := OpenModel(filepath.Join(dir, "nothing.onnx"), EngineOptions{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing model: %v", err)
	}
	write("lonely.onnx", onnx)
	if _, err := OpenModel(filepath.Join(dir, "lonely.onnx"), EngineOptions{}); err == nil || !strings.Contains(err.Error(), "no manifest") {
		t.Errorf("model without manifest: %v", err)
	}
}

func TestFindLibraryExplains(t *testing.T) {
	if _, err := FindLibrary("/nonexistent/libonnxruntime.so.1"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("explicit missing library: %v", err)
	}
	t.Setenv(LibraryEnv, "/nonexistent/dir")
	if _, err := FindLibrary(""); err == nil || !strings.Contains(err.Error(), "$ONNXRUNTIME_LIB") {
		t.Errorf("env missing library: %v", err)
	}
}

func BenchmarkAnalyzeStrip(b *testing.B) {
	data := encodeJPEG(b, bandStrip(1600, 256, 300, 700, 200))
	e := openTiny(b, "tiny-nchw", EngineOptions{})
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := e.AnalyzeBytes(ctx, "strip.jpg", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAnalyzeBatchSharesRuns(t *testing.T) {
	e := openTiny(t, "tiny-nchw", EngineOptions{MaxBatch: 48})
	a := bandStrip(1600, 256, 0, 256, 255)
	b := bandStrip(1600, 256, 1344, 1600, 255)
	names := []string{"a.png", "bad.png", "b.png"}
	data := [][]byte{encodePNG(t, a), []byte("garbage"), encodePNG(t, b)}
	out, errs := e.AnalyzeBatch(context.Background(), names, data)
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("errors %v", errs)
	}
	if e.Runs() != 1 {
		t.Errorf("24 patches of two strips took %d runs with max batch 48, want 1", e.Runs())
	}
	if p := out[0].Patches[0].Probability; math.Abs(float64(p)-1) > 1e-4 {
		t.Errorf("first strip's first patch %v, want 1", p)
	}
	if p := out[2].Patches[11].Probability; math.Abs(float64(p)-1) > 1e-4 || out[2].Patches[0].Probability != 0 {
		t.Errorf("second strip's patches %v … %v, want 0 … 1", out[2].Patches[0].Probability, p)
	}
	if out[0].Source != "a.png" || out[2].Source != "b.png" {
		t.Errorf("sources %q %q", out[0].Source, out[2].Source)
	}
}

func TestDecodeErrorKinds(t *testing.T) {
	good := encodeJPEG(t, bandStrip(300, 256, 0, 10, 255))
	if _, err := DecodeImage(good[:len(good)/2], 0); !errors.Is(err, ErrCorruptImage) {
		t.Errorf("truncated JPEG: %v is not ErrCorruptImage", err)
	}
	if _, err := DecodeImage(pngHeaderOnly(60000, 60000), 0); !errors.Is(err, ErrImageTooLarge) || !strings.Contains(err.Error(), "60000×60000") {
		t.Errorf("huge header: %v", err)
	}
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	if _, err := DecodeImage(gif, 0); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("GIF: %v is not ErrUnsupportedFormat", err)
	}
}

// Every session tuning bench can measure gives the same scores; an unknown
// optimisation level is refused with the accepted ones named.
func TestSessionTuningKeepsScores(t *testing.T) {
	img := bandStrip(1600, 256, 300, 900, 200)
	data := encodePNG(t, img)
	ref, err := openTiny(t, "tiny-strip", EngineOptions{}).AnalyzeBytes(context.Background(), "ref", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []EngineOptions{
		{Optimization: "none"}, {Optimization: "basic"}, {Optimization: "extended"},
		{NoMemArena: true, NoSpin: true, Threads: 1},
	} {
		a, err := openTiny(t, "tiny-strip", opts).AnalyzeBytes(context.Background(), "a", data)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		for i := range ref.Patches {
			if d := math.Abs(float64(a.Patches[i].Probability - ref.Patches[i].Probability)); d > 1e-5 {
				t.Errorf("%+v: patch %d probability %v, default session %v", opts, i, a.Patches[i].Probability, ref.Patches[i].Probability)
			}
		}
	}
	_, err = OpenModel(tinyModel("tiny-strip"), EngineOptions{Optimization: "fast"})
	if err == nil || !strings.Contains(err.Error(), `"fast"`) || !strings.Contains(err.Error(), "extended") {
		t.Errorf("unknown level: got %v", err)
	}
}
