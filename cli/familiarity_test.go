package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"steelinspect/inference"
	"steelinspect/models"
)

// copyBundled copies the bundled model's three files (graph, manifest,
// familiarity statistics with its domain check) into dir and returns its
// manifest's path there.
func copyBundled(t *testing.T, dir string) string {
	t.Helper()
	stem := models.DefaultName
	for _, suffix := range []string{".onnx", ".manifest.json", ".familiarity.json"} {
		data, err := os.ReadFile(filepath.Join("..", "models", stem+suffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, stem+suffix), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, stem+".manifest.json")
}

// TestFamiliarityRefitKeepsTheDomainCheck: refitting a model's Gaussian
// familiarity statistics keeps its validated-domain check (fitted by
// training/domain_check.py, not by this command) as it was, and the
// refitted model opens; statistics whose file no longer matches the
// manifest's hash are refused, not carried into the new file.
func TestFamiliarityRefitKeepsTheDomainCheck(t *testing.T) {
	dir := t.TempDir()
	manifest := copyBundled(t, dir)
	before, _, err := inference.LoadModelFiles(manifest)
	if err != nil {
		t.Fatal(err)
	}
	want := before.DomainCheck()
	if want == nil {
		t.Fatal("the bundled model has no domain check to keep")
	}
	code, out, errs := run(t, "familiarity", "--model", manifest, "--components", "8",
		"--fit", "../testdata/heldout/train_images", "--limit-on", "../testdata/heldout-wide/train_images")
	if code != 0 {
		t.Fatalf("familiarity: exit %d\n%s%s", code, out, errs)
	}
	after, _, err := inference.LoadModelFiles(manifest)
	if err != nil {
		t.Fatalf("the refitted model does not load: %v", err)
	}
	if after.Familiarity.SHA256 == before.Familiarity.SHA256 {
		t.Error("the familiarity file was not refitted")
	}
	if !reflect.DeepEqual(after.DomainCheck(), want) {
		t.Errorf("the domain check changed in the refit:\nbefore %+v\nafter  %+v", want, after.DomainCheck())
	}

	// a familiarity file that is not the one the manifest hashed
	fam := filepath.Join(dir, after.Familiarity.File)
	raw, _ := os.ReadFile(fam)
	var stats map[string]any
	if err := json.Unmarshal(raw, &stats); err != nil {
		t.Fatal(err)
	}
	stats["residual"] = 2.5
	edited, _ := json.Marshal(stats)
	if err := os.WriteFile(fam, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "familiarity", "--model", manifest, "--components", "8",
		"--fit", "../testdata/heldout/train_images", "--limit-on", "../testdata/heldout-wide/train_images")
	if code == 0 || !strings.Contains(errs, "hash mismatch") {
		t.Errorf("a familiarity file edited behind the manifest was refitted over: exit %d, %q", code, errs)
	}
}
