package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// TestTeachThenScanWithTheTaughtModel teaches from the command line and
// scores a defective and a clean never-taught strip with the saved model,
// as scan, eval and the window open it.
func TestTeachThenScanWithTheTaughtModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "line3.manifest.json")
	code, stdout, stderr := run(t, "teach", "--good", "../testdata/good-base", "--out", out, "--bank", "1024")
	if code != 0 {
		t.Fatalf("teach exit %d: %s", code, stderr)
	}
	for _, want := range []string{"taught line3 on 38 good 1600×256 strips", "held-out good strips: 10",
		"new good strips expected to auto-pass", "memory bank: 1024 features of 128 values", "saved " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("teach output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "Choosing the memory bank") || !strings.Contains(stderr, "elapsed") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	for _, f := range []string{"line3.onnx", "line3.bank"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(out), f)); err != nil {
			t.Errorf("teach did not write %s: %v", f, err)
		}
	}

	// be1c6ebc2 carries three defects; cf0b1332e is clean
	images := "../testdata/heldout/train_images/"
	code, stdout, stderr = run(t, "scan", "--model", out, images+"be1c6ebc2.jpg", images+"cf0b1332e.jpg")
	if code != 0 {
		t.Fatalf("scan exit %d: %s", code, stderr)
	}
	var recs []verdict.Record
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r verdict.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 || recs[0].Model.Name != "line3" {
		t.Fatalf("records %+v", recs)
	}
	if !recs[0].Decision.Is(verdict.Reject) || !recs[1].Decision.Is(verdict.Pass) {
		t.Errorf("defective strip %v, clean strip %v; want REJECT and PASS", recs[0].Decision, recs[1].Decision)
	}

	code, _, stderr = run(t, "teach", "--good", "../testdata/good-base", "--out", out)
	if code == 0 || !strings.Contains(stderr, "already exists") {
		t.Errorf("teaching over an existing model: exit %d, %s", code, stderr)
	}
}

func TestTeachUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"teach"}, "no folder of good strips"},
		{[]string{"teach", "--good", ".", "--holdout", "0.9"}, "between 0 and 0.5"},
		{[]string{"teach", "--good", ".", "--name", "../x"}, "letters, digits"},
		{[]string{"teach", "--good", ".", "--bank", "0"}, "--bank must be"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want usage error saying %q", c.args, code, stderr, c.want)
		}
	}
}
