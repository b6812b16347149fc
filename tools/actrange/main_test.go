package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The tiny test model's output is the mean of its input, so the measured
// range over two inputs of known means is known exactly.
func TestRangesOfTinyModel(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, v := range []float32{0.25, 0.75} {
		buf := make([]byte, 4*2*3*256*256)
		for k := 0; k < len(buf); k += 4 {
			binary.LittleEndian.PutUint32(buf[k:], math.Float32bits(v))
		}
		p := filepath.Join(dir, string(rune('a'+i))+".f32")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	names := filepath.Join(dir, "names.txt")
	if err := os.WriteFile(names, []byte("probability\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ranges.json")
	model := filepath.Join("..", "..", "testdata", "models", "tiny-nchw.onnx")
	if err := run(model, "2,3,256,256", names, out, "input", "", files); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]tensorRange
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	r := got["probability"]
	if math.Abs(r.Min-0.25) > 1e-6 || math.Abs(r.Max-0.75) > 1e-6 || r.PLo > r.PHi {
		t.Errorf("range %+v, want min 0.25 max 0.75", r)
	}
	if err := run(model, "2,3,256,256", names, out, "input", "", []string{filepath.Join(dir, "names.txt")}); err == nil {
		t.Error("an input file of the wrong size was accepted")
	}
}
