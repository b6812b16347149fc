package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"steelinspect/central"
	"steelinspect/internal/testimg"
	"steelinspect/verdict"
)

const tinyModel = "../testdata/models/tiny-nchw.manifest.json"

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// writeStrip writes a 1600×256 grey PNG whose columns [x0,x1) have value v.
func writeStrip(t *testing.T, path string, x0, x1 int, v uint8) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, testimg.StripPNG(x0, x1, v), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanFolderJSONL(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "a_clean.png"), 0, 0, 0)              // dark: every patch TextureBackground/255
	writeStrip(t, filepath.Join(dir, "b_sub", "bright.png"), 0, 1600, 255) // all white: every patch 1
	os.WriteFile(filepath.Join(dir, "c_text.png"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(dir, "d_empty.jpg"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored: not an image extension"), 0o644)

	code, stdout, stderr := run(t, "scan", "--model", tinyModel, dir)
	if code != ExitFailure {
		t.Errorf("exit %d, want 1 when some files fail", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d records, want 4 (txt skipped):\n%s", len(lines), stdout)
	}
	var recs []verdict.Record
	for _, l := range lines {
		var r verdict.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad JSON %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	clean, bright, text, empty := recs[0], recs[1], recs[2], recs[3]
	if !clean.Decision.Is(verdict.Pass) || clean.Zones.AutoPass != 12 || math.Abs(clean.Confidence-testimg.TextureBackground/255.0) > 1e-3 || len(clean.Patches) != 12 {
		t.Errorf("clean strip: %+v", clean)
	}
	if !bright.Decision.Is(verdict.Reject) || bright.Zones.AutoReject != 12 || bright.ConfidenceLevel != "High" {
		t.Errorf("bright strip: %+v", bright)
	}
	last := bright.Patches[11]
	if last.X != 1344 || last.W != 256 || last.Zone != verdict.ZoneAutoReject {
		t.Errorf("last patch %+v, want flush with the right edge", last)
	}
	if bright.Image == nil || bright.Image.Width != 1600 || len(bright.Image.SHA256) != 64 || bright.Model.Name != "tiny-nchw" {
		t.Errorf("identity fields missing: %+v %+v", bright.Image, bright.Model)
	}
	if bright.Thresholds != verdict.DefaultThresholds || bright.Timings == nil || bright.Timings.TotalMS <= 0 {
		t.Errorf("thresholds/timings: %+v %+v", bright.Thresholds, bright.Timings)
	}
	if !strings.Contains(text.Error, "not a supported image") || !strings.Contains(empty.Error, "empty file") {
		t.Errorf("errors: %q, %q", text.Error, empty.Error)
	}
	if strings.Count(stderr, "\n") != 2 {
		t.Errorf("stderr should have one line per failed file:\n%s", stderr)
	}
}

func TestScanThresholdsAndCSV(t *testing.T) {
	dir := t.TempDir()
	// Columns 0..128 white: patch 0 has mean 0.5, patch 1 0 → max 0.5.
	writeStrip(t, filepath.Join(dir, "half.png"), 0, 128, 255)
	code, stdout, _ := run(t, "scan", filepath.Join(dir, "half.png"), "--model", tinyModel, "--format", "csv", "--pass", "0.3", "--reject", "0.45")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	col := map[string]string{}
	for i, h := range rows[0] {
		col[h] = rows[1][i]
	}
	if col["decision"] != "REJECT" || col["pass_threshold"] != "0.300000" || col["auto_reject"] != "1" || col["auto_pass"] != "11" {
		t.Errorf("csv row %v", col)
	}
	if n := strings.Count(col["patches"], ";") + 1; n != 12 {
		t.Errorf("%d patches in csv", n)
	}
}

func TestScanUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"scan"}, "no PATH"},
		{[]string{"scan", "--pass", "0.7", "--reject", "0.5", "x.png"}, "out of order"},
		{[]string{"scan", "--model", tinyModel, "--pass", "0.7", "x.png"}, "out of order"},
		{[]string{"scan", "--format", "xml", "x.png"}, "jsonl or csv"},
		{[]string{"scan", "--bogus", "x.png"}, "not defined"},
		{[]string{"scan", "--pass", "1e400", "x.png"}, `invalid value "1e400" for flag -pass: is out of range`},
		{[]string{"scan", "--reject", "0x1p-2", "x.png"}, `invalid value "0x1p-2" for flag -reject: is not a decimal number`},
		{[]string{"scan", "--pass", "-0.1", "x.png"}, "is out of range: a threshold is from 0 to 1"},
	}
	for _, c := range cases {
		code, stdout, stderr := run(t, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%v: exit %d stderr %q stdout %q; want 2 and %q", c.args, code, stderr, stdout, c.want)
		}
	}
}

func TestScanModelErrors(t *testing.T) {
	code, _, stderr := run(t, "scan", "--model", "/nonexistent/model.onnx", "x.png")
	if code != ExitFailure || !strings.Contains(stderr, "no such file") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("missing model: exit %d, %q", code, stderr)
	}
}

func TestNoWindowInHeadlessBuild(t *testing.T) {
	code, _, stderr := run(t, "--model", tinyModel)
	if code != ExitFailure || !strings.Contains(stderr, "no window") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

var batchStrips = flag.Int("strips", 200, "strips in BenchmarkScanBatchMemory")

// TestScanSkipsAFIFO: `mkfifo d/cam.jpg; steelinspect scan d` used to wait
// forever for a writer, and the files after it were never scored.
func TestScanSkipsAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "a_cam.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	writeStrip(t, filepath.Join(dir, "b_strip.png"), 0, 0, 0)
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := run(t, "scan", "--model", tinyModel, dir, fifo)
		done <- result{code, stdout, stderr}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("scan is still blocked on the named pipe after a minute")
	}
	if r.code != ExitFailure {
		t.Errorf("exit %d, want 1 (a path failed)", r.code)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d records, want 3 (the pipe twice, the strip):\n%s", len(lines), r.stdout)
	}
	var strip verdict.Record
	for _, l := range lines {
		var rec verdict.Record
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(rec.Path) == "a_cam.jpg" && !strings.Contains(rec.Error, "named pipe (FIFO)") {
			t.Errorf("pipe record error %q", rec.Error)
		}
		if filepath.Base(rec.Path) == "b_strip.png" {
			strip = rec
		}
	}
	if strip.Error != "" || strip.Decision.IsZero() {
		t.Errorf("the strip after the pipe was not scored: %+v", strip)
	}
	if n := strings.Count(r.stderr, "is a named pipe (FIFO), not an image file"); n != 2 {
		t.Errorf("stderr names the pipe %d times, want one line for each time it was given:\n%s", n, r.stderr)
	}
}

// TestCSVOutputsAreNeutralised: a file name a spreadsheet would run as a
// formula, or one holding a right-to-left override, is written so that it
// shows what it is, in scan's CSV and the plant report's.
func TestCSVOutputsAreNeutralised(t *testing.T) {
	model, err := filepath.Abs(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the file names as given, relative
	writeStrip(t, "=HYPERLINK(1).png", 0, 0, 0)
	writeStrip(t, "strip\u202egnp.png", 0, 0, 0)
	code, stdout, stderr := run(t, "scan", "--model", model, "--format", "csv", "=HYPERLINK(1).png", "strip\u202egnp.png")
	if code != ExitOK {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != "'=HYPERLINK(1).png" || rows[2][0] != "strip<U+202E>gnp.png" {
		t.Errorf("scan csv paths: %q %v", rows, err)
	}
	var buf bytes.Buffer
	if err := writeReportCSV(&buf, []central.ReportRow{{Station: "=cmd|' /C calc'!A0", Line: "@line\u200b2", Shift: "2026-12-07 early"}}); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "'=cmd|' /C calc'!A0" || rows[1][1] != "'@line<U+200B>2" {
		t.Errorf("report csv: %q %v", rows, err)
	}
}

// TestScanFollowsALinkedFolder: a folder named through a symbolic link is
// listed (before, scan and teach found 0 images in it and exited 0, while
// the window found them).
func TestScanFollowsALinkedFolder(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "real", "a.png"), 0, 0, 0)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "scan", "--model", tinyModel, link)
	if code != ExitOK || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, "a.png") {
		t.Errorf("scan of a linked folder: %d %q %s", code, stdout, stderr)
	}
}
