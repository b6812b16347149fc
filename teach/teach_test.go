package teach_test

import (
	"context"
	"encoding/csv"
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"steelinspect/inference"
	"steelinspect/internal/testimg"
	"steelinspect/teach"
	"steelinspect/verdict"
)

// goodDir holds 48 defect-free synthetic strips of the generator's base
// style (training/synth.py, seed 9001); heldoutDir holds 30 defect-free and
// 30 defective strips of the same style (seed 3003), never taught on.
const (
	goodDir    = "../testdata/good-base/train_images"
	heldoutDir = "../testdata/heldout"
)

// testOptions teach a smaller bank than the default, so the race-checked
// tests stay quick; the separation bar below holds for it too.
func testOptions(folder string) teach.Options {
	return teach.Options{Good: folder, BankRows: 2048, PoolCells: 40_000}
}

var shared struct {
	once     sync.Once
	res      *teach.Result
	manifest string
	err      error
}

// taughtModel teaches once on goodDir and saves the model into a folder
// that lives as long as the test binary.
func taughtModel(t *testing.T) (*teach.Result, string) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "teach-test-")
		if err != nil {
			shared.err = err
			return
		}
		opts := testOptions(goodDir)
		opts.Name = "good-base"
		shared.res, shared.err = teach.Teach(context.Background(), opts)
		if shared.err != nil {
			return
		}
		shared.manifest, shared.err = shared.res.Save(teach.ManifestPath(dir, "good-base"), false)
	})
	if shared.err != nil {
		t.Fatalf("teach on %s: %v", goodDir, shared.err)
	}
	return shared.res, shared.manifest
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.manifest != "" {
		os.RemoveAll(filepath.Dir(shared.manifest))
	}
	os.Exit(code)
}

// defective reads which held-out strips are defective (listed in train.csv).
func defective(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(heldoutDir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range rows[1:] {
		out[r[0]] = true
	}
	return out
}

func stripScore(a inference.Analysis) float64 {
	return float64(slices.Max(a.Probabilities()))
}

// rocAUC is the probability that a random positive scores above a random
// negative (ties count half).
func rocAUC(pos, neg []float64) float64 {
	var s float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				s++
			case p == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(pos)*len(neg))
}

func TestTaughtModelSeparatesDefectiveStripsAndReloadsIdentically(t *testing.T) {
	res, path := taughtModel(t)
	inMemory, err := inference.NewEngine(res.Manifest, res.ONNX, "in memory", inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inMemory.Close()
	reloaded, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatalf("reopen the saved model: %v", err)
	}
	defer reloaded.Close()
	if !reloaded.Manifest().IsAnomaly() {
		t.Fatalf("saved model kind %q, want anomaly", reloaded.Manifest().Kind)
	}

	bad := defective(t)
	files, err := filepath.Glob(filepath.Join(heldoutDir, "train_images", "*.jpg"))
	if err != nil || len(files) != 60 {
		t.Fatalf("held-out strips: %d files, %v", len(files), err)
	}
	var pos, neg []float64
	ctx := context.Background()
	for _, f := range files {
		a, err := reloaded.AnalyzeFile(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := inMemory.AnalyzeFile(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Probabilities(), b.Probabilities()) {
			t.Fatalf("%s: reloaded model scores %v, the model as taught %v", f, a.Probabilities(), b.Probabilities())
		}
		if bad[filepath.Base(f)] {
			pos = append(pos, stripScore(a))
		} else {
			neg = append(neg, stripScore(a))
		}
	}
	auc := rocAUC(pos, neg)
	t.Logf("strip ROC AUC %.4f on %d defective and %d defect-free strips never taught on", auc, len(pos), len(neg))
	if auc < 0.95 {
		t.Errorf("strip ROC AUC %.4f, want at least 0.95", auc)
	}
}

func TestHeldOutReportMatchesTheEngine(t *testing.T) {
	res, path := taughtModel(t)
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rep := res.Report
	if len(rep.HeldOut) != 10 || rep.Taught != 38 {
		t.Fatalf("taught %d, held out %d of 48; want 38 and 10 (hold-out 0.2)", rep.Taught, len(rep.HeldOut))
	}
	passed := 0
	for _, h := range rep.HeldOut {
		a, err := e.AnalyzeFile(context.Background(), h.Path)
		if err != nil {
			t.Fatal(err)
		}
		if got := float32(stripScore(a)); got != h.Probability {
			t.Errorf("%s: teach measured %v, the saved model scores %v", h.Path, h.Probability, got)
		}
		v, err := a.Decide(e.Manifest().DefaultThresholds)
		if err != nil {
			t.Fatal(err)
		}
		if v.Decision != h.Decision {
			t.Errorf("%s: teach reported %v, the engine decides %v", h.Path, h.Decision, v.Decision)
		}
		if v.Decision == verdict.Pass {
			passed++
		}
	}
	if got := float64(passed) / float64(len(rep.HeldOut)); got != rep.PassShare || got != 1 {
		t.Errorf("held-out pass share %.2f (report %.2f); the mapping is fitted to pass every held-out good strip", got, rep.PassShare)
	}
	if !(rep.ProbabilityMax < e.Manifest().DefaultThresholds.Pass) {
		t.Errorf("largest held-out strip probability %.3f is not below the pass threshold", rep.ProbabilityMax)
	}
	if rep.NewGoodPassShare < 0.5 || rep.NewGoodPassShare > 1 {
		t.Errorf("new good strips expected to pass: %.2f; a model taught on one style should pass most of its good strips", rep.NewGoodPassShare)
	}
}

func TestSavedModelManifest(t *testing.T) {
	res, path := taughtModel(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	for file, want := range map[string]string{m.File: m.SHA256, m.Anomaly.Bank.File: m.Anomaly.Bank.SHA256} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := inference.SHA256Hex(data); got != want {
			t.Errorf("%s: sha256 %s, manifest says %s", file, got, want)
		}
	}
	b := m.Anomaly.Bank
	if b.Rows != 2048 || b.Dim != 128 || b.Bytes != int64(b.Rows)*int64(2*b.Dim+1)*4 {
		t.Errorf("bank %+v: want 2048×128 with its memory stated", b)
	}
	if m.Kind != inference.KindAnomaly || m.Name != "good-base" || m.Version == "" || m.Provenance.Date == "" {
		t.Errorf("manifest kind %q name %q version %q date %q", m.Kind, m.Name, m.Version, m.Provenance.Date)
	}
	if m.Anomaly.Taught.Folder != goodDir || m.Anomaly.Taught.Strips != 38 || m.Anomaly.Taught.HeldOut != 10 ||
		!strings.Contains(m.Provenance.TrainedOn, goodDir) || !strings.Contains(m.Provenance.TrainedOn, "38 defect-free") {
		t.Errorf("provenance does not say where the model was taught: %+v / %q", m.Anomaly.Taught, m.Provenance.TrainedOn)
	}
	if id := m.Identity().SHA256; id != inference.SHA256Hex([]byte(m.SHA256+":"+b.SHA256)) || id == m.SHA256 {
		t.Errorf("identity hash %s does not cover the bank (model file %s, bank %s)", id, m.SHA256, b.SHA256)
	}
	if res.Report.BankBytes != b.Bytes {
		t.Errorf("report says the bank takes %d bytes, manifest %d", res.Report.BankBytes, b.Bytes)
	}
}

// The taught model knows its line's texture: the manifest holds the good
// strips' texture, and every good strip of the folder is plausible on it,
// smooth ones the generic floors call textureless included; a flat frame
// with sensor noise is not.
func TestTaughtModelJudgesTextureByItsLine(t *testing.T) {
	_, path := taughtModel(t)
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	line := e.Manifest().Texture
	if line == nil || line.Strips != 48 || line.Min <= 0 || line.Floor() >= 1 {
		t.Fatalf("manifest texture %+v: want the 48 good strips measured, smoother than the generic floor", line)
	}
	files, _ := filepath.Glob(filepath.Join(goodDir, "*.jpg"))
	generic := 0
	for _, f := range files {
		a, err := e.AnalyzeFile(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Cautions) > 0 {
			t.Errorf("%s: %v", filepath.Base(f), a.Cautions)
		}
		d := decodeFile(t, f)
		if inference.ImplausibleReason(d.Width, d.Height, d.Stats, nil) != "" {
			generic++
		}
	}
	if generic == 0 {
		t.Error("the generic floors pass every good strip: this test no longer shows the line at work")
	}
	flat := image.NewGray(image.Rect(0, 0, 1600, 256))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range flat.Pix {
		flat.Pix[i] = uint8(100 + r.NormFloat64()*3)
	}
	a, err := e.AnalyzeBytes(context.Background(), "flat.png", testimg.PNG(flat))
	if err != nil {
		t.Fatal(err)
	}
	if verdict.CautionReasons(a.Cautions) != inference.NoTextureReason(inference.PatternFlat) {
		t.Errorf("flat frame: cautions %v", a.Cautions)
	}
	t.Logf("line: %d strips, texture min %.3f, floor %.3f; the generic floors flag %d of them", line.Strips, line.Min, line.Floor(), generic)
}

func decodeFile(t *testing.T, path string) inference.DecodedImage {
	t.Helper()
	data, err := inference.ReadImageFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := inference.DecodeImage(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCellMapAgreesWithPatches(t *testing.T) {
	_, path := taughtModel(t)
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.AnalyzeFile(context.Background(), filepath.Join(heldoutDir, "train_images", "be1c6ebc2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	c := a.Cells
	if c == nil || c.Cell != 16 || c.Cols != 100 || c.Rows != 16 || len(c.Values) != 1600 {
		t.Fatalf("cell map %+v, want 100×16 cells of 16 px for a 1600×256 strip", c)
	}
	for _, p := range a.Patches {
		var worst float32
		for y := p.Y; y < p.Y+p.H; y += c.Cell {
			for x := p.X; x < p.X+p.W; x += c.Cell {
				worst = max(worst, c.At(x, y))
			}
		}
		if worst != p.Probability {
			t.Errorf("patch at %d,%d: probability %v, its worst cell %v", p.X, p.Y, p.Probability, worst)
		}
	}
	lo, hi := slices.Min(c.Values), slices.Max(c.Values)
	if lo < 0 || hi > 1 || hi-lo < 0.3 {
		t.Errorf("cell values span %.3f..%.3f: want probabilities with the defect standing out", lo, hi)
	}
}

// copyStrips copies the first n good strips into dir.
func copyStrips(t *testing.T, dir string, n int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(goodDir, "*.jpg"))
	sort.Strings(files)
	if len(files) < n {
		t.Fatalf("%d good strips, need %d", len(files), n)
	}
	for _, f := range files[:n] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.WriteFile(path, testimg.PNG(img), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadFoldersGetTheirMessage(t *testing.T) {
	ctx := context.Background()
	tooFew := t.TempDir()
	copyStrips(t, tooFew, 10)

	mixed := t.TempDir()
	copyStrips(t, mixed, 32)
	writeImage(t, filepath.Join(mixed, "narrow.png"), testimg.TexturedStrip(800, 256, 0, 0, 0))

	cases := []struct {
		name, folder, want string
	}{
		{"missing folder", filepath.Join(t.TempDir(), "nope"), "folder of good strips"},
		{"a file, not a folder", filepath.Join(goodDir, "031f7b02c.jpg"), "is not a folder"},
		{"too few strips", tooFew, "10 usable strips, teaching needs at least 30"},
		{"mixed sizes", mixed, "mixed sizes: 1600×256 (32, e.g. "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := teach.Teach(ctx, testOptions(c.folder))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	if _, err := teach.Teach(ctx, testOptions(mixed)); err == nil || !strings.Contains(err.Error(), "800×256 (1, e.g. narrow.png)") {
		t.Errorf("mixed sizes error does not name the odd strip: %v", err)
	}
}

func TestUnreadableSkippedAndOddStripsFlagged(t *testing.T) {
	dir := t.TempDir()
	copyStrips(t, dir, 34)
	if err := os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("not a jpeg at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	black := image.NewGray(image.Rect(0, 0, 1600, 256))
	writeImage(t, filepath.Join(dir, "black.png"), black)
	// a plausible image, but nothing like rolled steel: a coarse bright
	// checkerboard over the whole strip
	odd := image.NewGray(image.Rect(0, 0, 1600, 256))
	for y := range 256 {
		for x := range 1600 {
			v := uint8(40)
			if (x/32+y/32)%2 == 0 {
				v = 220
			}
			odd.SetGray(x, y, color.Gray{Y: v})
		}
	}
	writeImage(t, filepath.Join(dir, "odd.png"), odd)
	// a camera fault: flat grey with sensor noise, no steel in it
	fault := image.NewGray(image.Rect(0, 0, 1600, 256))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range fault.Pix {
		fault.Pix[i] = uint8(90 + r.NormFloat64()*4)
	}
	writeImage(t, filepath.Join(dir, "fault.png"), fault)

	res, err := teach.Teach(context.Background(), testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	if len(rep.Unreadable) != 1 || filepath.Base(rep.Unreadable[0].Path) != "broken.jpg" {
		t.Errorf("unreadable: %+v, want broken.jpg", rep.Unreadable)
	}
	flagged := map[string]string{}
	for _, f := range rep.Flagged {
		flagged[filepath.Base(f.Path)] = f.Reason
	}
	if !strings.Contains(flagged["black.png"], "black frame") {
		t.Errorf("black frame not flagged: %v", flagged)
	}
	if !strings.Contains(flagged["odd.png"], "unlike the other strips") {
		t.Errorf("checkerboard strip not flagged as unlike the rest: %v", flagged)
	}
	if !strings.HasPrefix(flagged["fault.png"], "no steel texture: ") {
		t.Errorf("frame without steel not flagged: %v", flagged)
	}
	if len(flagged) != 3 {
		t.Errorf("flagged %d strips, want only the black frame, the checkerboard and the frame without steel: %v", len(flagged), flagged)
	}
	if rep.Taught+len(rep.HeldOut) != 34 || rep.Found != 38 {
		t.Errorf("found %d, taught %d + held out %d; want 38 found and the 34 good strips used", rep.Found, rep.Taught, len(rep.HeldOut))
	}
	if rep.Texture == nil || rep.Texture.Strips != 35 {
		t.Errorf("line texture %+v, want the 34 good strips and the checkerboard measured", rep.Texture)
	}
}

func TestCancelledTeachWritesNothing(t *testing.T) {
	dir := t.TempDir()
	copyStrips(t, dir, 32)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := testOptions(dir)
	var stages []string
	opts.Progress = func(p teach.Progress) {
		stages = append(stages, p.Stage)
		if strings.HasPrefix(p.Stage, "Choosing the memory bank") {
			cancel()
		}
	}
	res, err := teach.Teach(ctx, opts)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled teach returned %v, %v; want context.Canceled and no model", res, err)
	}
	if len(stages) == 0 {
		t.Fatal("no progress reported")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 32 {
		t.Errorf("the folder taught on holds %d files after a cancelled teach, want its 32 strips", len(entries))
	}
}

func TestSaveRefusesToOverwriteAndLeavesNoTemporaryFiles(t *testing.T) {
	res, path := taughtModel(t)
	if _, err := res.Save(path, false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second save: %v, want a refusal", err)
	}
	if _, err := res.Save(filepath.Join(filepath.Dir(path), "other.manifest.json"), false); err == nil ||
		!strings.Contains(err.Error(), `named "good-base"`) {
		t.Errorf("save under another name: %v, want a clear refusal", err)
	}
	dir := t.TempDir()
	saved, err := res.Save(teach.ManifestPath(dir, "good-base"), false)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"good-base.bank", "good-base.manifest.json", "good-base.onnx"}
	if !slices.Equal(names, want) {
		t.Errorf("saved files %v, want exactly %v", names, want)
	}
	// a tampered bank is refused when the model is opened
	bank := filepath.Join(dir, "good-base.bank")
	data, _ := os.ReadFile(bank)
	data[100] ^= 0xff
	if err := os.WriteFile(bank, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inference.OpenModel(saved, inference.EngineOptions{}); err == nil || !strings.Contains(err.Error(), "hash mismatch") {
		t.Errorf("tampered bank opened: %v", err)
	}
	if err := os.WriteFile(bank, data[:len(data)-4], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inference.OpenModel(saved, inference.EngineOptions{}); err == nil || !strings.Contains(err.Error(), "memory bank") || !strings.Contains(err.Error(), "bytes, want 1048576") {
		t.Errorf("truncated bank opened: %v", err)
	}
}

func TestCoresetKeepsTheRareAndIsDeterministic(t *testing.T) {
	var feats [][]float32
	for i := range 2000 {
		v := make([]float32, 8)
		for d := range v {
			v[d] = float32(math.Sin(float64(i*(d+1)))) * 0.1
		}
		feats = append(feats, v)
	}
	far := []float32{9, 9, 9, 9, 9, 9, 9, 9}
	feats = append(feats, far)
	a, err := teach.Coreset(context.Background(), feats, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := teach.Coreset(context.Background(), feats, 20, nil)
	if len(a) != 20 {
		t.Fatalf("coreset of %d, want 20", len(a))
	}
	hasFar := false
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatal("two coresets of the same features differ")
		}
		hasFar = hasFar || slices.Equal(a[i], far)
	}
	if !hasFar {
		t.Error("the one feature far from all others was not kept")
	}
	all, _ := teach.Coreset(context.Background(), feats[:5], 20, nil)
	if len(all) != 5 {
		t.Errorf("k above n: %d features, want all 5", len(all))
	}
}
