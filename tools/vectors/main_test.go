package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var bundled = filepath.Join("..", "..", "models", "steel-mnv2-synth-int8.manifest.json")

// linesOf runs the command on the bundled model for the named demo
// strips (a blank line among them is skipped) and returns its lines.
func linesOf(t *testing.T, of string, demos ...string) []string {
	t.Helper()
	var in strings.Builder
	for _, d := range demos {
		if d != "" {
			d = filepath.Join("..", "..", "assets", "demo", d)
		}
		in.WriteString(d + "\n")
	}
	var out bytes.Buffer
	if err := run(bundled, of, strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

// The bundled model's check reads 64 values (block 6's 32 channels, mean
// and spread): one line of them for each image named, in order, and a file
// that is not an image stops the command with its name.
func TestVectorsOfTheBundledModel(t *testing.T) {
	lines := linesOf(t, "domain", "crazing.jpg", "", "clean-2.jpg")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 images", len(lines))
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
	err := run(bundled, "domain", strings.NewReader(filepath.Join("..", "..", "README.md")+"\n"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("a file that is not an image: %v", err)
	}
}

// --of windows: one line per patch, the image's line number first, then
// the 1,280 window features of the bundled model; an unknown --of is
// refused.
func TestWindowsOfTheBundledModel(t *testing.T) {
	lines := linesOf(t, "windows", "crazing.jpg", "clean-2.jpg")
	if len(lines) != 24 {
		t.Fatalf("%d lines for 2 strips of 12 patches", len(lines))
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 1+1280 || f[0] != strconv.Itoa(i/12) {
			t.Fatalf("line %d: %d fields, image %q", i, len(f), f[0])
		}
	}
	if err := run(bundled, "cells", strings.NewReader(""), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "cells") {
		t.Errorf("--of cells: %v", err)
	}
}
