package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/evaluate"
)

func TestEvalOnHeldoutWithTinyModel(t *testing.T) {
	plots := t.TempDir()
	args := []string{"eval", "--model", tinyModel, "--images", "../testdata/heldout/train_images", "--labels", "../testdata/heldout/train.csv"}
	code, stdout, stderr := run(t, append(args, "--plots", plots)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"60 strips, 30 defective", "strip level at pass 0.40 / reject 0.65", "missed (defective auto-passed)", "patch level: 720 patches", "ROC AUC", "class 3:", "suggested thresholds"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"histogram.png", "roc.png", "sweep.png"} {
		if st, err := os.Stat(filepath.Join(plots, f)); err != nil || st.Size() < 1000 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	// The same inputs give the same numbers, and JSON carries them.
	code, out1, _ := run(t, append(args, "--format", "json")...)
	_, out2, _ := run(t, append(args, "--format", "json")...)
	if code != ExitOK || out1 != out2 {
		t.Error("two runs of eval differ")
	}
	var r evaluate.Report
	if err := json.Unmarshal([]byte(out1), &r); err != nil || r.Strip.Strips != 60 || r.Patch.Patches != 720 || r.Suggested == nil {
		t.Errorf("json report: %v %+v", err, r.Strip)
	}
}

func TestEvalRefusesBadLabels(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "train.csv")
	os.WriteFile(labels, []byte("ImageId,ClassId,EncodedPixels\na.jpg,1,1 2 3\na.jpg,1,5 5\n"), 0o644)
	code, stdout, stderr := run(t, "eval", "--model", tinyModel, "--images", dir, "--labels", labels)
	if code != ExitFailure || stdout != "" || !strings.Contains(stderr, "line 2:") || !strings.Contains(stderr, "line 3: duplicate") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
	os.WriteFile(labels, []byte("ImageId,ClassId,EncodedPixels\nmissing.jpg,3,1 5\n"), 0o644)
	writeStrip(t, filepath.Join(dir, "present.png"), 0, 0, 0)
	code, stdout, stderr = run(t, "eval", "--model", tinyModel, "--images", dir, "--labels", labels)
	if code != ExitFailure || !strings.Contains(stderr, "missing.jpg (line 2) is listed but not in") || !strings.Contains(stdout, "1 images are not listed") {
		t.Errorf("missing/unlisted: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, _ := run(t, "eval", "--images", dir); code != ExitUsage {
		t.Errorf("no labels: exit %d", code)
	}
}

// --compare sets a model beside a reference on the same strips: the
// whole-strip tiny model scores exactly what the per-patch one does, the
// logit model (a different function) changes zones and decisions.
func TestEvalCompare(t *testing.T) {
	base := []string{"eval", "--images", "../testdata/heldout/train_images", "--labels", "../testdata/heldout/train.csv", "--format", "json"}
	type result struct {
		Comparison evaluate.Comparison `json:"comparison"`
	}
	compare := func(model, ref string) evaluate.Comparison {
		t.Helper()
		code, stdout, stderr := run(t, append(base, "--model", model, "--compare", ref)...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var r result
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		return r.Comparison
	}
	strip := filepath.Join("..", "testdata", "models", "tiny-strip.manifest.json")
	same := compare(strip, tinyModel)
	if same.Strips != 60 || same.Patches != 720 || same.MaxAbsDifference > 1e-3 || len(same.ZoneChanges) != 0 || len(same.DecisionChanges) != 0 {
		t.Errorf("whole-strip vs per-patch tiny model: %+v", same)
	}
	logit := filepath.Join("..", "testdata", "models", "tiny-logit.manifest.json")
	diff := compare(logit, tinyModel)
	if len(diff.ZoneChanges) == 0 || len(diff.DecisionChanges) == 0 || diff.MaxAbsDifference < 0.1 {
		t.Errorf("logit vs mean model: %d zone and %d decision changes, max diff %v", len(diff.ZoneChanges), len(diff.DecisionChanges), diff.MaxAbsDifference)
	}
	z := diff.ZoneChanges[0]
	if z.RefZone == z.Zone {
		t.Errorf("a listed zone change keeps its zone: %+v", z)
	}
	code, text, _ := run(t, "eval", "--images", "../testdata/heldout/train_images", "--labels", "../testdata/heldout/train.csv",
		"--model", logit, "--compare", tinyModel)
	if code != ExitOK || !strings.Contains(text, "against reference tiny-nchw") || !strings.Contains(text, "patch zones changed") {
		t.Errorf("text comparison (exit %d):\n%s", code, text)
	}
	if code, _, stderr := run(t, append(base, "--model", tinyModel, "--compare", "nothing.onnx")...); code == ExitOK || !strings.Contains(stderr, "--compare") {
		t.Errorf("missing reference: exit %d, %s", code, stderr)
	}
}
