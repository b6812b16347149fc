package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The bundled model's check reads 64 values (block 6's 32 channels, mean
// and spread): one line of them for each image named, in order, and a file
// that is not an image stops the command with its name.
func TestVectorsOfTheBundledModel(t *testing.T) {
	model := filepath.Join("..", "..", "models", "steel-mnv2-synth-int8.manifest.json")
	demo := func(n string) string { return filepath.Join("..", "..", "assets", "demo", n) }
	var out bytes.Buffer
	if err := run(model, strings.NewReader(demo("crazing.jpg")+"\n\n"+demo("clean-2.jpg")+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 images:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 64 {
			t.Fatalf("image %d: %d values, want 64", i, len(f))
		}
		for k := 32; k < 64; k++ { // the spreads
			if v, err := strconv.ParseFloat(f[k], 64); err != nil || v < 0 {
				t.Fatalf("image %d value %d: %q is not a spread", i, k, f[k])
			}
		}
	}
	if lines[0] == lines[1] {
		t.Error("two different strips gave the same vector")
	}
	err := run(model, strings.NewReader(filepath.Join("..", "..", "README.md")+"\n"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("a file that is not an image: %v", err)
	}
}
