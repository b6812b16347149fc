package models_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"steelinspect/inference"
	"steelinspect/models"
)

// BenchmarkBundledStrip measures decode → tiles → inference → decision for
// one 1600×256 demo strip with the bundled model: the end-to-end figure the
// station cares about.
func BenchmarkBundledStrip(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "scratches.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for b.Loop() {
		a, err := e.AnalyzeBytes(ctx, "scratches.jpg", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inference.Decide(a.Probabilities(), inference.DefaultThresholds); err != nil {
			b.Fatal(err)
		}
	}
}
