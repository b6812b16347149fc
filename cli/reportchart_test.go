package cli

import (
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/central"
	"steelinspect/internal/testpg"
	"steelinspect/report"
	"steelinspect/verdict"
)

// TestReportChart: report --format png draws the plant's counts from a
// real PostgreSQL that two stations forwarded to, into --out whole; a PNG
// without --out, or --out with text, is a usage error.
func TestReportChart(t *testing.T) {
	pg := testpg.Start(t)
	url := pg.URL(testpg.Password)
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)      // PASS
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255) // REJECT
	for _, station := range []string{"line7", "line9"} {
		if code, _, stderr := run(t, "scan", "--db", filepath.Join(dir, station+".db"), "--model", tinyModel, "--central", url,
			"--station", station, filepath.Join(dir, "img")); code != 0 {
			t.Fatalf("scan --central --station %s: %d %s", station, code, stderr)
		}
	}

	out := filepath.Join(dir, "charts", "report.png")
	os.MkdirAll(filepath.Dir(out), 0o755)
	os.WriteFile(out, []byte("last week's chart"), 0o644)
	code, stdout, stderr := run(t, "report", "--central", url, "--since", "1h", "--format", "png", "--out", out)
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, out) {
		t.Fatalf("report --format png: %d %q %s", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", out, err)
	}
	if b := img.Bounds(); b.Dx() != central.ChartWidth || b.Dy() != central.ChartHeight {
		t.Errorf("chart is %v, want %d×%d", b, central.ChartWidth, central.ChartHeight)
	}
	// both stations passed one strip and rejected one: green and red bars
	for _, d := range []verdict.Decision{verdict.Pass, verdict.Reject} {
		want, n := report.DecisionColor(d), 0
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				if color.NRGBAModel.Convert(img.At(x, y)) == want {
					n++
				}
			}
		}
		if n < 5000 {
			t.Errorf("%d pixels of %s's colour: no bars for the stations' strips", n, d)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "charts", "*")); len(left) != 1 {
		t.Errorf("the chart's folder holds %v, want report.png alone (no temporary file left)", left)
	}

	// the command line is checked before the database is asked
	nowhere := "postgres://nobody@127.0.0.1:1/none"
	for _, bad := range [][]string{{"--format", "png"}, {"--out", out}, {"--format", "csv", "--out", out}, {"--format", "svg", "--out", out}} {
		code, _, stderr := run(t, append([]string{"report", "--central", nowhere}, bad...)...)
		if code != ExitUsage {
			t.Errorf("report %v: exit %d %q, want a usage error", bad, code, stderr)
		}
	}
	if _, _, stderr := run(t, "report", "--central", nowhere, "--format", "png"); !strings.Contains(stderr, "--out FILE") {
		t.Errorf("--format png without --out says %q", stderr)
	}
	// a folder that is not there: a failure, said
	code, _, stderr = run(t, "report", "--central", url, "--format", "png", "--out", filepath.Join(dir, "no", "such", "r.png"))
	if code != ExitFailure || !strings.Contains(stderr, "--out") {
		t.Errorf("--out in a missing folder: %d %q", code, stderr)
	}
}
