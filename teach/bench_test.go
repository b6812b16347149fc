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

// BenchmarkNearestNeighbourSearch compares the two places the search could
// run for one 1600×256 strip (1,600 cells, a 4,096×128 bank): inside the
// backbone's ONNX Runtime graph (measured as the strip's model time with the
// full bank minus that with a one-row bank) and a tight Go loop over the
// same features, one goroutine per CPU
// (`go test ./teach -run '^$' -bench NearestNeighbour -benchtime 10x`).
func BenchmarkNearestNeighbourSearch(b *testing.B) {
	res, err := teach.Teach(context.Background(), teach.Options{Good: goodDir})
	if err != nil {
		b.Fatal(err)
	}
	full, err := inference.NewEngine(res.Manifest, res.ONNX, "taught", inference.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer full.Close()
	img := decodeStrip(b, filepath.Join(heldoutDir, "train_images", "be1c6ebc2.jpg"))
	cells, err := full.CellFeatures(context.Background(), img)
	if err != nil {
		b.Fatal(err)
	}
	bank := inference.DecodeBank(res.Bank)
	dim := res.Manifest.Anomaly.Bank.Dim

	b.Run("onnxruntime-in-graph-whole-strip", func(b *testing.B) {
		for b.Loop() {
			if _, err := full.AnomalyDistances(context.Background(), img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-loop-search-only", func(b *testing.B) {
		for b.Loop() {
			goNearest(cells, bank, dim)
		}
	})
}
