package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchReportsEveryStage(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "a.png"), 0, 300, 255)
	writeStrip(t, filepath.Join(dir, "b.png"), 500, 900, 128)
	code, stdout, stderr := run(t, "bench", "--model", tinyModel, "--images", dir, "--n", "4")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"model tiny-nchw", "4 strips", "12 patches each", "decode", "tile + preprocess", "model (ONNX Runtime)", "decide", "end to end", "strips/s"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = run(t, "bench", "--model", tinyModel, "--images", dir, "--n", "2", "--threads", "1")
	if code != ExitOK || !strings.Contains(stdout, "1 ONNX Runtime thread(s)") {
		t.Errorf("--threads 1: exit %d\n%s", code, stdout)
	}
	if code, _, _ := run(t, "bench", "--model", tinyModel, "--images", dir, "--threads", "-1"); code != ExitUsage {
		t.Errorf("--threads -1: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "bench", "--model", tinyModel, "--images", t.TempDir()); code != ExitUsage {
		t.Errorf("empty image folder: exit %d, want 2", code)
	}
}

func TestQuantile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	if quantile(v, 0.5) != 3 || quantile(v, 0.95) != 5 || quantile(v, 0) != 1 {
		t.Errorf("quantiles %v %v %v", quantile(v, 0.5), quantile(v, 0.95), quantile(v, 0))
	}
}

func TestBenchProfile(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "a.png"), 0, 300, 255)
	prof := t.TempDir()
	code, stdout, stderr := run(t, "bench", "--model", tinyModel, "--images", dir, "--n", "2", "--profile", prof)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The tiny model is one ReduceMean and a Reshape: the profile must say so.
	if !strings.Contains(stdout, "where the model time goes") || !strings.Contains(stdout, "ReduceMean") {
		t.Errorf("profile output:\n%s", stdout)
	}
	if m, _ := filepath.Glob(filepath.Join(prof, "steelinspect-profile*.json")); len(m) != 1 {
		t.Errorf("profile files: %v", m)
	}
}
