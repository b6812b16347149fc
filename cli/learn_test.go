package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/inference"
)

// TestLearnThenScanWithTheLearnedModel learns from the command line on the
// labelled held-out strips, prints the out-of-fold figures, and the saved
// model scores strips through scan with each patch's most likely class.
func TestLearnThenScanWithTheLearnedModel(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "line3.manifest.json")
	code, stdout, stderr := run(t, "learn", "--labelled", "../testdata/heldout", "--out", out, "--folds", "3", "--cache", filepath.Join(dir, "cache"))
	if code != 0 {
		t.Fatalf("learn exit %d: %s", code, stderr)
	}
	for _, want := range []string{"learned line3 on 60 labelled 1600×256 strips (30 defective, 30 with masks; 30 defect-free)",
		"out of fold (3 folds", "defective auto-passed", "strip ROC AUC", "classes class 1", "saved " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("learn output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "Reading the strips' features") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	images := "../testdata/heldout/train_images/"
	code, stdout, stderr = run(t, "scan", "--model", out, images+"be1c6ebc2.jpg")
	if code != 0 {
		t.Fatalf("scan exit %d: %s", code, stderr)
	}
	var rec inference.Record
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Model.Name != "line3" || rec.Decision == "PASS" || rec.Patches[0].Class == "" {
		t.Errorf("a strip with three defects: model %s, decision %s, first patch class %q", rec.Model.Name, rec.Decision, rec.Patches[0].Class)
	}
	// learning again reads every strip from the cache; an existing model
	// is kept unless --force; bad options are one usage line
	code, _, stderr = run(t, "learn", "--labelled", "../testdata/heldout", "--out", out)
	if code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("learning over an existing model: exit %d, %s", code, stderr)
	}
	code, stdout, stderr = run(t, "learn", "--quiet", "--labelled", "../testdata/heldout", "--out", out, "--force", "--folds", "3", "--cache", filepath.Join(dir, "cache"))
	if code != 0 || !strings.Contains(stdout, "60 features read from the cache") {
		t.Errorf("learning again: exit %d, %s %s", code, stdout, stderr)
	}
	for _, args := range [][]string{{"learn"}, {"learn", "--labelled", "x", "--max-missed", "0.5"}} {
		code, _, stderr = run(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "line3.bank")); err != nil {
		t.Error(err)
	}
}
