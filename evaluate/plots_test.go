package evaluate

import (
	"image/png"
	"os"
	"testing"

	"steelinspect/verdict"
)

func TestWritePlots(t *testing.T) {
	r := &Report{Thresholds: verdict.DefaultThresholds, Model: verdict.ModelIdentity{Name: "m", Version: "1"}}
	for i := 0; i < 20; i++ {
		def := i%2 == 0
		conf := 0.1 + 0.02*float64(i)
		if def {
			conf += 0.4
		}
		r.Strips = append(r.Strips, StripResult{ImageID: "s", Defective: def, Confidence: conf,
			Probabilities: []float32{float32(conf), float32(conf / 3)}, PatchTruth: []bool{def, false}})
	}
	r.measure()
	files, err := WritePlots(r, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("wrote %v", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// A real figure has many colours, not a blank canvas.
		seen := map[[3]uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				r, g, bl, _ := img.At(x, y).RGBA()
				seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
		if b.Dx() < 500 || len(seen) < 10 {
			t.Errorf("%s: %v with %d colours", f, b, len(seen))
		}
	}
	pts := rocPoints([]float32{0.9, 0.1}, []bool{true, false})
	if last := pts[len(pts)-1]; last.X != 1 || last.Y != 1 || pts[1].X != 0 || pts[1].Y != 1 {
		t.Errorf("perfect ROC %v", pts)
	}
}
