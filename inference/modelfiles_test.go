package inference

import (
	"encoding/json"
	"errors"
	"image"
	"os"
	"path/filepath"
	"steelinspect/internal/testimg"
	"strings"
	"syscall"
	"testing"
)

// manifestNaming writes tiny-nchw's manifest into dir with its file field
// set to file, and returns the manifest's path.
func manifestNaming(t *testing.T, dir, file string) string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/models/tiny-nchw.manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["file"] = file
	out, _ := json.Marshal(m)
	path := filepath.Join(dir, "m.manifest.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// deviceBeside writes a manifest whose model file, beside it, is a device
// node (a copy of /dev/zero's), or skips where none can be made.
func deviceBeside(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mknod(filepath.Join(dir, "zero.onnx"), syscall.S_IFCHR|0o644, 1<<8|5); err != nil {
		t.Skipf("no device nodes here: %v", err)
	}
	return manifestNaming(t, dir, "zero.onnx")
}

// TestModelFilesStayInTheModelsFolder: a manifest naming /etc/shadow, a
// path up the tree, or a link out of its folder is refused before a byte
// is read, and nothing of the file (no hash prefix) is printed (issue 30).
func TestModelFilesStayInTheModelsFolder(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.onnx")
	if err := os.WriteFile(secret, []byte("not for the station"), 0o600); err != nil {
		t.Fatal(err)
	}
	linkDir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(linkDir, "m.onnx")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"absolute", manifestNaming(t, dir, secret), "must be a file name beside the manifest"},
		{"up the tree", manifestNaming(t, t.TempDir(), "../secret.onnx"), "must be a file name beside the manifest"},
		{"link out", manifestNaming(t, linkDir, "m.onnx"), "is a link out of the model's folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := LoadModelFiles(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "sha256") {
				t.Fatalf("error %v, want it to say %q and nothing of the file", err, c.want)
			}
		})
	}
	// a link to another file of the same folder is the folder's own
	inside := t.TempDir()
	data, _ := os.ReadFile("../testdata/models/tiny-nchw.onnx")
	if err := os.WriteFile(filepath.Join(inside, "real.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.onnx", filepath.Join(inside, "alias.onnx")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadModelFiles(manifestNaming(t, inside, "alias.onnx")); err != nil {
		t.Errorf("a link within the model's folder: %v", err)
	}
}

// TestModelFilesAreCappedBeforeReading: a manifest naming /dev/zero used to
// read 3 GB in 8 s, and a 2 GB sparse .onnx took 2.1 GB of memory before
// ONNX Runtime refused it (issue 16). Both, a named pipe and an oversized
// manifest are refused before a byte is read.
func TestModelFilesAreCappedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	sparse := filepath.Join(dir, "huge.onnx")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	f.Close()
	fifoDir := t.TempDir()
	fifo := filepath.Join(fifoDir, "pipe.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	bigManifest := filepath.Join(dir, "big.manifest.json")
	if err := os.WriteFile(bigManifest, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(bigManifest, MaxManifestBytes+1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"device", deviceBeside(t), "zero.onnx is a device, not a model file"},
		{"2 GB sparse", manifestNaming(t, dir, "huge.onnx"), "is 2048.0 MB, above the limit of 512.0 MB"},
		{"named pipe", manifestNaming(t, fifoDir, "pipe.onnx"), "is a named pipe (FIFO)"},
		{"huge manifest", bigManifest, "above the limit of 1.0 MB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := LoadModelFiles(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestPaddedAreaCountsAgainstThePixelLimit: the engine scores an image
// padded to whole 256-px patches, so the limit counts that area.
func TestPaddedAreaCountsAgainstThePixelLimit(t *testing.T) {
	wide := testimg.PNG(image.NewGray(image.Rect(0, 0, 1_000_000, 1)))
	_, err := DecodeImage(wide, 0)
	if !errors.Is(err, ErrImageTooLarge) || !strings.Contains(err.Error(), "scored padded to 1000000×256") {
		t.Fatalf("1,000,000×1 image: %v, want refused as too large once padded", err)
	}
	// under the limit once padded, with a shape a strip camera gives
	short := testimg.PNG(image.NewGray(image.Rect(0, 0, 6000, 200)))
	if _, err := DecodeImage(short, 1_600_000); err != nil {
		t.Errorf("6000×200 image (1.5 MP once padded, under a 1.6 MP limit): %v", err)
	}
	if _, err := DecodeImage(short, 1_400_000); !errors.Is(err, ErrImageTooLarge) {
		t.Errorf("6000×200 image (1.5 MP once padded) under a 1.4 MP limit: %v, want refused", err)
	}
}

// TestDecodeMemoryIsBudgeted: an image is refused before decoding when
// decoding it would take more than MaxDecodeBytes, and a colour picture is
// kept as grey, measured first.
func TestDecodeMemoryIsBudgeted(t *testing.T) {
	rgb16 := testimg.PNGHeaderOnlyOf(6000, 6000, 16, 2) // 36 MP, under the pixel limit; 8 bytes a pixel decoded
	_, err := DecodeImage(rgb16, 0)
	if !errors.Is(err, ErrImageTooLarge) || !strings.Contains(err.Error(), "image is 6000×6000 and would take about 308 MB to decode, above the limit of 256 MB an image") {
		t.Fatalf("16-bit RGB 6000×6000: %v", err)
	}
	rgb8 := testimg.PNGHeaderOnlyOf(6000, 6000, 8, 2) // 4+1 bytes a pixel: 172 MB, accepted (fails later: no pixels)
	if _, err := DecodeImage(rgb8, 0); errors.Is(err, ErrImageTooLarge) {
		t.Errorf("8-bit RGB 6000×6000 refused as too large: %v", err)
	}
	red := image.NewNRGBA(image.Rect(0, 0, 300, 256))
	for i := 0; i < len(red.Pix); i += 4 {
		red.Pix[i], red.Pix[i+3] = 255, 255
	}
	d, err := DecodeImage(testimg.PNG(red), 0)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := d.Image.(*image.Gray)
	if !ok || g.Pix[0] != 76 || d.Stats.Chroma < 200 {
		t.Errorf("red picture decoded as %T (first pixel %v), chroma %.0f; want grey luma 76 and its colour measured", d.Image, d.Image.At(0, 0), d.Stats.Chroma)
	}
}

// TestManifestWithNaNNamesTheFileAndField: Python's json.dump writes NaN
// for a metric it could not compute (issue 27); the refusal names the
// manifest's path and the field, not only the character.
func TestManifestWithNaNNamesTheFileAndField(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile("../testdata/models/tiny-nchw.manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["provenance"] = map[string]any{"metrics_validation": map[string]any{"real-weak": map[string]any{"patch_auc": "@NAN@"}}}
	out, _ := json.MarshalIndent(m, "", "  ")
	out = []byte(strings.Replace(string(out), `"@NAN@"`, "NaN", 1))
	path := filepath.Join(dir, "plant.manifest.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadModelFiles(path)
	if err == nil {
		t.Fatal("a manifest holding NaN was accepted")
	}
	for _, want := range []string{path, `"provenance.metrics_validation.real-weak.patch_auc"`, "NaN is not JSON"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
