package models_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/verdict"
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
		if _, err := a.Decide(verdict.DefaultThresholds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVariants runs every model committed in models/ (per-patch fp32,
// whole-strip, INT8) end to end on the same strip, side by side.
func BenchmarkVariants(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "scratches.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	manifests, _ := filepath.Glob("*.manifest.json")
	for _, m := range manifests {
		b.Run(strings.TrimSuffix(m, inference.ManifestSuffix), func(b *testing.B) {
			e, err := inference.OpenModel(m, inference.EngineOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			for b.Loop() {
				if _, err := e.AnalyzeBytes(context.Background(), "scratches.jpg", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
