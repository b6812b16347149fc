package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/verdict"
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
		"out of fold (3 folds", "defective auto-passed", "strip ROC AUC", "classes class 3", "familiarity: a strip unlike the line's strips goes to review", "saved " + out} {
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
	var rec verdict.Record
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Model.Name != "line3" || rec.Decision.Is(verdict.Pass) || rec.Patches[0].Class == "" {
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
	// the bundled graph with the line's familiarity beside it; no bank
	if _, err := os.Stat(filepath.Join(dir, "line3.familiarity.json")); err != nil {
		t.Error(err)
	}
	code, stdout, stderr = run(t, "learn", "--quiet", "--labelled", "../testdata/heldout", "--features", "cells", "--name", "cells3",
		"--out", filepath.Join(dir, "cells3.manifest.json"), "--folds", "2", "--cache", filepath.Join(dir, "cache"))
	if code != 0 || !strings.Contains(stdout, "cells (") {
		t.Errorf("learning on cells: exit %d, %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cells3.bank")); err != nil {
		t.Error(err)
	}
}

// TestDriftCommandSaysWhenToLearnAgain: steelinspect drift reads the
// trail's last shift and names the signs past their limits.
func TestDriftCommandSaysWhenToLearnAgain(t *testing.T) {
	db := filepath.Join(t.TempDir(), "trail.db")
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		in := audit.Inspection{Source: "scan", Path: fmt.Sprintf("%d.png", k), SHA256: fmt.Sprintf("%064x", k), ModelName: "m",
			ModelVersion: "1", AutoDecision: verdict.Pass}
		if k < 3 {
			in.AutoDecision, in.CautionKinds = verdict.Review, "unfamiliar"
		}
		if _, err := store.Add(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	code, stdout, stderr := run(t, "drift", "--db", db)
	if code != 0 || !strings.Contains(stdout, "10 strips: 3 unfamiliar (30 %)") ||
		!strings.Contains(stdout, "re-learn suggested: 30 % of the strips unfamiliar") {
		t.Errorf("drift: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "drift", "--db", db, "--unfamiliar", "0.5", "--review", "0.5")
	if code != 0 || !strings.Contains(stdout, "no sign of drift past its limit") {
		t.Errorf("drift with higher limits: exit %d\n%s", code, stdout)
	}
	if code, _, _ := run(t, "drift", "--db", db, "--review", "2"); code != 2 {
		t.Errorf("a limit of 2: exit %d", code)
	}
	// the supervisor's limits, recorded, are what drift judges by from then on
	if code, _, stderr := run(t, "drift", "limits", "--db", db, "--unfamiliar", "0.5", "--review", "0.5"); code != 0 ||
		!strings.Contains(stderr, "unfamiliar=0.50 overridden=0.05 review=0.50") {
		t.Fatalf("drift limits: exit %d %s", code, stderr)
	}
	code, stdout, _ = run(t, "drift", "--db", db)
	if code != 0 || !strings.Contains(stdout, "no sign of drift past its limit (the supervisor's: unfamiliar=0.50") {
		t.Errorf("drift after the supervisor's limits: exit %d\n%s", code, stdout)
	}
	if code, _, _ := run(t, "drift", "limits", "--db", db, "--review", "-1"); code != 2 {
		t.Errorf("drift limits with a limit of -1: exit %d", code)
	}
}
