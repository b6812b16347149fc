package teach_test

import (
	"context"
	"path/filepath"
	"testing"

	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/teach"
)

// BenchmarkTeach teaches on the 48 good strips of testdata/good-base with
// the default bank (`go test ./teach -run '^$' -bench Teach -benchtime 3x`).
// For 200 strips: `steelinspect teach --good DIR` prints its own time.
func BenchmarkTeach(b *testing.B) {
	for b.Loop() {
		if _, err := teach.Teach(context.Background(), teach.Options{Good: goodDir}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStrip scores one 1600×256 strip end to end (read, decode, model,
// mapping) with a model taught with the default bank, and with the bundled
// classifier in the same run for comparison
// (`go test ./teach -run '^$' -bench Strip`).
func BenchmarkStrip(b *testing.B) {
	res, err := teach.Teach(context.Background(), teach.Options{Good: goodDir})
	if err != nil {
		b.Fatal(err)
	}
	taught, err := inference.NewEngine(res.Manifest, res.ONNX, "taught", inference.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer taught.Close()
	bundled, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer bundled.Close()
	strip := filepath.Join(heldoutDir, "train_images", "be1c6ebc2.jpg")
	for _, c := range []struct {
		name string
		e    *inference.Engine
	}{{"taught-anomaly-bank4096", taught}, {"bundled-classifier", bundled}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.e.AnalyzeFile(context.Background(), strip); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
