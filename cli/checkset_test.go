package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/station"
)

// TestCheckSetAndEvalAgainstIt: checkset set registers a labelled folder
// (recorded in the trail), refuses one that cannot check recall, and eval
// without --images/--labels measures a model on it.
func TestCheckSetAndEvalAgainstIt(t *testing.T) {
	db := filepath.Join(t.TempDir(), "audit.db")
	if code, _, stderr := run(t, "eval", "--model", tinyModel, "--db", db); code != ExitUsage || !strings.Contains(stderr, "no check set is registered") {
		t.Errorf("eval without a check set: %d %q", code, stderr)
	}
	if code, stdout, _ := run(t, "checkset", "show", "--db", db); code != ExitOK || !strings.Contains(stdout, station.Unchecked) {
		t.Errorf("show without one: %d %q", code, stdout)
	}
	if code, _, stderr := run(t, "checkset", "set", t.TempDir(), "--db", db); code != ExitFailure || !strings.Contains(stderr, "needs train_images/ and train.csv") {
		t.Errorf("an empty folder: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "checkset", "set", "../testdata/heldout", "--db", db); code != ExitOK || !strings.Contains(stderr, "registered") {
		t.Fatalf("checkset set: %d %q", code, stderr)
	}
	code, stdout, stderr := run(t, "eval", "--model", tinyModel, "--db", db)
	if code != ExitOK || !strings.Contains(stdout, "60 strips, 30 defective") || !strings.Contains(stdout, "heldout/train_images") {
		t.Errorf("eval on the check set: %d %q %s", code, stdout, stderr)
	}
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cs, err := station.RegisteredCheckSet(context.Background(), store)
	if err != nil || cs == nil || !strings.HasSuffix(cs.Dir, filepath.Join("testdata", "heldout")) {
		t.Errorf("recorded check set %+v %v", cs, err)
	}
}

// TestRunModeFlag: --run-mode hands the window the wish to start in run
// mode, the floor's view.
func TestRunModeFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{[]string{"--no-audit", "--model", tinyModel, "--run-mode"}, true}, {[]string{"--no-audit", "--model", tinyModel}, false}} {
		var got *GUIOptions
		var out, errb strings.Builder
		code := Run(c.args, Env{Stdout: &out, Stderr: &errb, GUI: func(o GUIOptions) error { got = &o; return nil }})
		if code != ExitOK || got == nil || got.RunMode != c.want {
			t.Errorf("%v: exit %d %s, run mode %v", c.args, code, errb.String(), got != nil && got.RunMode)
		}
		if got != nil && got.Engine != nil {
			got.Engine.Close()
		}
	}
}
