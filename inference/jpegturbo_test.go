package inference

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// turboSamples are committed strips: every demo strip and a spread of the
// held-out ones.
func turboSamples(t *testing.T) []string {
	t.Helper()
	demo, err := filepath.Glob(filepath.Join("..", "assets", "demo", "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	heldout, err := filepath.Glob(filepath.Join("..", "testdata", "heldout", "train_images", "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(demo) == 0 || len(heldout) == 0 {
		t.Fatalf("no strips: %d demo, %d held-out", len(demo), len(heldout))
	}
	for i := 0; i < len(heldout); i += max(len(heldout)/4, 1) {
		demo = append(demo, heldout[i])
	}
	return demo
}

func readStrip(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func jpegConfig(t *testing.T, data []byte) image.Config {
	t.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// grayDiff is the largest and the mean absolute difference of two grey
// images of the same bounds, each read through its own stride.
func grayDiff(a, b *image.Gray) (maxDiff int, mean float64) {
	r := a.Bounds()
	sum := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := int(a.GrayAt(x, y).Y) - int(b.GrayAt(x, y).Y)
			d = max(d, -d)
			sum += d
			maxDiff = max(maxDiff, d)
		}
	}
	return maxDiff, float64(sum) / float64(r.Dx()*r.Dy())
}

// libjpeg-turbo's pixels are within rounding of image/jpeg's on the real
// strips, and DecodeImage gives exactly libjpeg-turbo's image.
func TestTurboMatchesStdlib(t *testing.T) {
	worstMax, worstMean := 0, 0.0
	for _, path := range turboSamples(t) {
		name := filepath.Base(path)
		data := readStrip(t, path)
		turbo, ok, err := decodeGrayJPEG(data, jpegConfig(t, data))
		if !ok || err != nil {
			t.Fatalf("%s: libjpeg-turbo path not taken (ok %v, err %v)", name, ok, err)
		}
		std, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: image/jpeg: %v", name, err)
		}
		stdGray, isGray := std.(*image.Gray)
		if !isGray {
			t.Fatalf("%s: image/jpeg gives %T", name, std)
		}
		if turbo.Bounds() != stdGray.Bounds() {
			t.Fatalf("%s: bounds %v, image/jpeg %v", name, turbo.Bounds(), stdGray.Bounds())
		}
		maxDiff, mean := grayDiff(turbo, stdGray)
		t.Logf("%s: max |diff| %d, mean |diff| %.4f", name, maxDiff, mean)
		if maxDiff > 2 || mean >= 0.1 {
			t.Errorf("%s: max |diff| %d (want ≤ 2), mean %.4f (want < 0.1)", name, maxDiff, mean)
		}
		worstMax, worstMean = max(worstMax, maxDiff), max(worstMean, mean)

		d, err := DecodeImage(data, 0)
		if err != nil {
			t.Fatalf("%s: DecodeImage: %v", name, err)
		}
		got, isGray := d.Image.(*image.Gray)
		if !isGray || !bytes.Equal(got.Pix, turbo.Pix) || d.Width != 1600 || d.Height != 256 || d.Format != "jpeg" {
			t.Errorf("%s: DecodeImage gives %T %dx%d %q, not libjpeg-turbo's image", name, d.Image, d.Width, d.Height, d.Format)
		}
	}
	t.Logf("worst over the samples: max |diff| %d, mean |diff| %.4f", worstMax, worstMean)
}

// A truncated strip is an error wherever it is cut, never a partial image.
func TestTurboTruncatedIsAnError(t *testing.T) {
	data := readStrip(t, filepath.Join("..", "assets", "demo", "scratches.jpg"))
	cfg := jpegConfig(t, data)
	for _, n := range []int{len(data) / 3, len(data) / 2, len(data) - 100, len(data) - 2} {
		img, ok, err := decodeGrayJPEG(data[:n], cfg)
		if !ok || err == nil || img != nil {
			t.Errorf("cut at %d of %d: ok %v, err %v, image %v; want an error and no image", n, len(data), ok, err, img != nil)
		} else {
			t.Logf("cut at %d: %v", n, err)
		}
		d, err := DecodeImage(data[:n], 0)
		if !errors.Is(err, ErrCorruptImage) || d.Image != nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "corrupt jpeg data") {
			t.Errorf("cut at %d: DecodeImage %v, image %v; want one corrupt-jpeg line and no image", n, err, d.Image != nil)
		}
	}
}

// Garbage after a valid SOI marker is a clear one-line error from both
// libjpeg-turbo and DecodeImage.
func TestTurboGarbageAfterSOI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// image/jpeg refuses these headers, so DecodeImage never hands them on;
	// libjpeg-turbo must refuse them too when given them directly.
	cfg := image.Config{ColorModel: color.GrayModel, Width: 1600, Height: 256}
	for name, tail := range map[string][]byte{
		"text":   bytes.Repeat([]byte("not a jpeg at all "), 200),
		"random": random,
	} {
		garbage := append([]byte{0xFF, 0xD8}, tail...)
		img, ok, err := decodeGrayJPEG(garbage, cfg)
		if !ok || err == nil || img != nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: libjpeg-turbo ok %v, err %v, image %v; want one line and no image", name, ok, err, img != nil)
		} else {
			t.Logf("%s: libjpeg-turbo: %v", name, err)
		}
		if _, err := DecodeImage(garbage, 0); !errors.Is(err, ErrCorruptImage) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: DecodeImage %v, want one corrupt-jpeg line", name, err)
		} else {
			t.Logf("%s: DecodeImage: %v", name, err)
		}
	}

	// A real header followed by garbage where the pixels should be: the
	// header passes, the decode must not.
	data := readStrip(t, filepath.Join("..", "assets", "demo", "crazing.jpg"))
	sos := bytes.Index(data, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatal("no SOS marker")
	}
	body := sos + 2 + (int(data[sos+2])<<8 | int(data[sos+3]))
	bad := append(bytes.Clone(data[:body]), bytes.Repeat([]byte{0xFF, 0xFE, 0x12}, 2000)...)
	if img, ok, err := decodeGrayJPEG(bad, jpegConfig(t, bad)); !ok || err == nil || img != nil {
		t.Errorf("garbage scan: ok %v, err %v, image %v; want an error", ok, err, img != nil)
	} else {
		t.Logf("garbage scan: %v", err)
	}
	if _, err := DecodeImage(bad, 0); !errors.Is(err, ErrCorruptImage) || strings.Contains(err.Error(), "\n") {
		t.Errorf("DecodeImage of a garbage scan: %v, want one corrupt-jpeg line", err)
	} else {
		t.Logf("garbage scan: DecodeImage: %v", err)
	}
}

// Colour JPEGs and JPEGs with EXIF are not for libjpeg-turbo: they keep the
// imaging path, colour as YCbCr and EXIF orientation applied.
func TestTurboFallbacks(t *testing.T) {
	colour := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for i := range colour.Pix {
		colour.Pix[i] = uint8(i * 7)
	}
	colourJPEG := encodeJPEG(t, colour)
	if _, ok, err := decodeGrayJPEG(colourJPEG, jpegConfig(t, colourJPEG)); ok || err != nil {
		t.Errorf("colour JPEG: ok %v, err %v; want the fallback", ok, err)
	}
	if d, err := DecodeImage(colourJPEG, 0); err != nil {
		t.Errorf("colour JPEG: %v", err)
	} else if _, isGray := d.Image.(*image.Gray); !isGray || d.Stats.Chroma == 0 {
		t.Errorf("colour JPEG decoded as %T with chroma %.1f; want image/jpeg's picture made grey after its colour was measured", d.Image, d.Stats.Chroma)
	}

	tall := encodeJPEG(t, bandStrip(32, 64, 0, 8, 255))
	for _, orientation := range []uint16{1, 6} {
		data := withEXIFOrientation(tall, orientation)
		if _, ok, err := decodeGrayJPEG(data, jpegConfig(t, data)); ok || err != nil {
			t.Errorf("EXIF orientation %d: ok %v, err %v; want the fallback", orientation, ok, err)
		}
		d, err := DecodeImage(data, 0)
		if err != nil {
			t.Fatalf("EXIF orientation %d: %v", orientation, err)
		}
		want := image.Pt(32, 64)
		if orientation == 6 {
			want = image.Pt(64, 32)
		}
		if got := d.Image.Bounds().Size(); got != want {
			t.Errorf("EXIF orientation %d: %v, want %v", orientation, got, want)
		}
	}
	// The plain greyscale JPEG is libjpeg-turbo's.
	if _, ok, err := decodeGrayJPEG(tall, jpegConfig(t, tall)); !ok || err != nil {
		t.Errorf("plain greyscale JPEG: ok %v, err %v; want libjpeg-turbo", ok, err)
	}
}

// Files with what libjpeg-turbo only warns about and image/jpeg lets pass
// (an unknown JFIF version, stray bytes before a marker) still decode, as
// image/jpeg decodes them.
func TestTurboWarningsKeepStdlibVerdict(t *testing.T) {
	data := readStrip(t, filepath.Join("..", "assets", "demo", "pitting.jpg"))
	if string(data[6:11]) != "JFIF\x00" {
		t.Fatalf("strip does not start with a JFIF segment: %q", data[:11])
	}
	jfif3 := bytes.Clone(data)
	jfif3[11] = 3 // major version
	app0End := 4 + (int(data[4])<<8 | int(data[5]))
	stray := append(append(bytes.Clone(data[:app0End]), 0x00, 0x2A, 0x00), data[app0End:]...)
	for name, file := range map[string][]byte{"JFIF 3.01": jfif3, "stray bytes": stray} {
		if _, ok, err := decodeGrayJPEG(file, jpegConfig(t, file)); err != nil {
			t.Logf("%s: libjpeg-turbo (ok %v): %v", name, ok, err)
		}
		want, err := jpeg.Decode(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%s: image/jpeg refuses it: %v", name, err)
		}
		d, err := DecodeImage(file, 0)
		if err != nil {
			t.Errorf("%s: %v, but image/jpeg decodes it", name, err)
			continue
		}
		got, isGray := d.Image.(*image.Gray)
		if !isGray {
			t.Errorf("%s: %T", name, d.Image)
			continue
		}
		if m, mean := grayDiff(got, want.(*image.Gray)); m > 2 || mean >= 0.1 {
			t.Errorf("%s: differs from image/jpeg by up to %d (mean %.4f)", name, m, mean)
		}
	}
}

func TestMayCarryEXIF(t *testing.T) {
	plain := encodeJPEG(t, bandStrip(16, 16, 0, 4, 200))
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"plain", plain, false},
		{"exif", withEXIFOrientation(plain, 1), true},
		{"Exif in a comment", append(bytes.Clone(plain[:2]), append([]byte("\xFF\xFE\x00\x06Exif"), plain[2:]...)...), false},
		{"Exif at the start", []byte("Exif"), false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		if got := mayCarryEXIF(c.data); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
