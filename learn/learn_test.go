package learn_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"steelinspect/audit"
	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/internal/strictjson"
	"steelinspect/internal/testimg"
	"steelinspect/learn"
	"steelinspect/verdict"
)

// heldoutDir holds 30 defect-free and 30 defective synthetic strips of the
// generator's base style with their masks (training/synth.py, seed 3003);
// goodDir 48 defect-free strips of the same style (seed 9001).
const (
	heldoutDir = "../testdata/heldout"
	goodDir    = "../testdata/good-base/train_images"
)

// fixture is a model learned once on heldoutDir, with a feature cache of
// its own, saved into a folder that lives as long as the test binary.
type fixture struct {
	once     sync.Once
	res      *learn.Result
	manifest string
	cache    string
	err      error
}

// shared learns on the ImageNet cells, sharedWindows on the bundled
// model's window features.
var shared, sharedWindows fixture

func (f *fixture) learn(t *testing.T, features string) (*learn.Result, string) {
	t.Helper()
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "learn-test-")
		if err != nil {
			f.err = err
			return
		}
		f.cache = filepath.Join(dir, "cache")
		f.res, f.err = learn.Learn(context.Background(), learn.Options{
			Labelled: []string{heldoutDir}, Name: "station-heldout", CacheDir: f.cache, Folds: 3, Features: features})
		if f.err != nil {
			return
		}
		f.manifest, f.err = f.res.Save(filepath.Join(dir, "station-heldout.manifest.json"), false)
	})
	if f.err != nil {
		t.Fatalf("learn on %s (%s): %v", heldoutDir, features, f.err)
	}
	return f.res, f.manifest
}

// learned is the model learned on cells.
func learned(t *testing.T) (*learn.Result, string) { return shared.learn(t, learn.FeaturesCells) }

// learnedOnWindows is the model learned on window features.
func learnedOnWindows(t *testing.T) (*learn.Result, string) {
	return sharedWindows.learn(t, learn.FeaturesWindows)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range []*fixture{&shared, &sharedWindows} {
		if f.manifest != "" {
			os.RemoveAll(filepath.Dir(f.manifest))
		}
	}
	os.Exit(code)
}

// TestLearnedModelSeparatesOutOfFoldAndSaysSo: on the synthetic strips the
// head, judged out of fold, tells defective strips from clean ones, and the
// manifest carries those figures (no NaN: it is read strictly).
func TestLearnedModelSeparatesOutOfFoldAndSaysSo(t *testing.T) {
	res, path := learned(t)
	r := res.Learned
	if r.Defective != 30 || r.Clean != 30 || r.Masked != 30 || r.Used != 60 {
		t.Fatalf("read %d strips: %d defective (%d masked), %d clean; want 60: 30 (30), 30", r.Used, r.Defective, r.Masked, r.Clean)
	}
	if r.StripAUC < 0.9 || r.PatchAUC < 0.9 {
		t.Errorf("out-of-fold strip AUC %.3f, patch AUC %.3f: want both at least 0.9", r.StripAUC, r.PatchAUC)
	}
	if r.Missed > 1 || r.FalseRejects > 2 {
		t.Errorf("out of fold: %d defective auto-passed, %d clean auto-rejected", r.Missed, r.FalseRejects)
	}
	// the figures are the strips' own out-of-fold decisions, counted
	var missed, rejected, review int
	for _, s := range r.Strips {
		missed += b2i(s.Defective && s.Decision == verdict.Pass)
		rejected += b2i(!s.Defective && s.Decision == verdict.Reject)
		review += b2i(s.Decision == verdict.Review)
	}
	if missed != r.Missed || rejected != r.FalseRejects || review != r.Reviews || math.Abs(r.ReviewShare-float64(review)/60) > 1e-9 {
		t.Errorf("report says %d/%d/%d (%.3f), its strips %d/%d/%d", r.Missed, r.FalseRejects, r.Reviews, r.ReviewShare, missed, rejected, review)
	}
	if r.TooFew != "" {
		t.Errorf("30 of each is enough to trust; the report warns %q", r.TooFew)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m inference.Manifest
	if err := strictjson.Decode(data, &m); err != nil {
		t.Fatalf("saved manifest: %v", err)
	}
	if !m.IsLearned() || m.Provenance.Metrics["missed"] != float64(r.Missed) || m.Provenance.Metrics["strip_auc"] == nil {
		t.Errorf("manifest head %v, metrics %v", m.IsLearned(), m.Provenance.Metrics)
	}
	if got := len(m.Anomaly.Head.Classes); got < 2 {
		t.Errorf("the synthetic masks carry 4 classes; the head names %d", got)
	}
	// the model knows its line's texture: the 30 defect-free strips'
	if m.Texture == nil || m.Texture.Strips != 30 || m.Texture.Min <= 0 {
		t.Errorf("manifest texture %+v, want the 30 defect-free strips measured", m.Texture)
	}
}

// TestEngineScoresAsLearningMeasured: the saved model, opened like any
// other, scores every patch as the head, the chosen pooling and the mapping
// say, from the cells' features of the same backbone run; new clean strips
// (never learned on) score lower than the defective held-out ones.
func TestEngineScoresAsLearningMeasured(t *testing.T) {
	res, path := learned(t)
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := res.Manifest
	h := m.Anomaly.Head
	a, img := analyzeDefective(t, e)
	g, err := e.CellGridOf(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if h.DistanceWeight == 0 {
		t.Error("the head weighs no distance to good steel")
	}
	for _, p := range a.Patches {
		var cells []float32
		for r := p.Y / g.Cell; r < (p.Y+p.H)/g.Cell; r++ {
			for c := p.X / g.Cell; c < (p.X+p.W)/g.Cell; c++ {
				s := h.Bias + h.DistanceWeight*float64(g.Distances[r*g.Cols+c])
				for k, w := range h.Weights {
					s += w * float64(g.Feature(r, c)[k])
				}
				cells = append(cells, float32(s))
			}
		}
		want := m.Anomaly.Mapping.Probability(float64(inference.PoolCells(h.Pool, h.TopK, cells)))
		if math.Abs(float64(p.Probability-want)) > 1e-4 {
			t.Fatalf("patch at x=%d: engine %.5f, head %.5f", p.X, p.Probability, want)
		}
		if p.Class == "" {
			t.Errorf("patch at x=%d has no class", p.X)
		}
	}
	// clean strips it never saw, against the defective strip
	worst := slices.Max(a.Probabilities())
	good, _ := filepath.Glob(filepath.Join(goodDir, "*.jpg"))
	below := 0
	for _, f := range good[:12] {
		ga, err := e.AnalyzeFile(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Max(ga.Probabilities()) < worst {
			below++
		}
	}
	if below < 11 {
		t.Errorf("only %d of 12 new clean strips score below a defective one (%.3f)", below, worst)
	}
}

// TestLearningAgainReadsTheCache: a second run reads every strip's features
// from the cache and learns the same head.
func TestLearningAgainReadsTheCache(t *testing.T) {
	res, _ := learned(t)
	again, err := learn.Learn(context.Background(), learn.Options{
		Labelled: []string{heldoutDir}, Name: "station-heldout", CacheDir: shared.cache, Folds: 3, Features: learn.FeaturesCells})
	if err != nil {
		t.Fatal(err)
	}
	if again.Learned.Cached != 60 {
		t.Errorf("%d of 60 strips came from the cache", again.Learned.Cached)
	}
	if !slices.Equal(again.Manifest.Anomaly.Head.Weights, res.Manifest.Anomaly.Head.Weights) {
		t.Error("learning again on the same strips gave another head")
	}
	// strips read from the cache are measured for the line all the same
	if a, b := again.Manifest.Texture, res.Manifest.Texture; a == nil || b == nil || *a != *b {
		t.Errorf("line texture %+v from the cache, %+v measured fresh", a, b)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func firstDefective(t *testing.T) string {
	t.Helper()
	labels, err := evaluate.ReadLabelsFile(filepath.Join(heldoutDir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, s := range labels.Strips {
		if s.Defective() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids[0]
}

// analyzeDefective analyses heldoutDir's first defective strip with e and
// returns the analysis and the decoded strip.
func analyzeDefective(t *testing.T, e *inference.Engine) (inference.Analysis, image.Image) {
	t.Helper()
	strip := filepath.Join(heldoutDir, "train_images", firstDefective(t))
	a, err := e.AnalyzeFile(context.Background(), strip)
	if err != nil {
		t.Fatal(err)
	}
	d, err := inference.DecodeImage(mustRead(t, strip), 0)
	if err != nil {
		t.Fatal(err)
	}
	return a, d.Image
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// copyStrips copies n strips of heldoutDir (defective ones when defective)
// into dir and returns their names.
func copyStrips(t *testing.T, dir string, defective bool, n int) []string {
	t.Helper()
	labels, err := evaluate.ReadLabelsFile(filepath.Join(heldoutDir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := os.ReadDir(filepath.Join(heldoutDir, "train_images"))
	var names []string
	for _, f := range all {
		s := labels.Strips[f.Name()]
		if (s != nil && s.Defective()) != defective || len(names) == n {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name()), mustRead(t, filepath.Join(heldoutDir, "train_images", f.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name())
	}
	return names
}

// TestBadLabelsGetOneLineEachAndUsableFilesAreKept: a row whose RLE runs
// out of the image leaves its strip out (it must not read as clean), a row
// naming a missing file is named, a strip of another size is left out, a
// half-written file is skipped: each with its line, and learning goes on
// with the rest. The decision-sorted layout (PASS/, REJECT/) reads too.
func TestBadLabelsGetOneLineEachAndUsableFilesAreKept(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "train_images")
	if err := os.MkdirAll(imgs, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := copyStrips(t, imgs, true, 6)
	clean := copyStrips(t, imgs, false, 6)
	labels, _ := evaluate.ReadLabelsFile(filepath.Join(heldoutDir, "train.csv"))
	csv := "ImageId,ClassId,EncodedPixels\n"
	for i, id := range bad {
		s := labels.Strips[id]
		for _, c := range s.ClassIDs() {
			rle := s.RLE[c]
			if i == 0 {
				rle = "409600 5" // past the end of a 1600×256 mask
			}
			csv += fmt.Sprintf("%s,%d,%s\n", id, c, rle)
		}
	}
	csv += "missing.jpg,1,1 10\n"
	if err := os.WriteFile(filepath.Join(dir, "train.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgs, "small.png"), testimg.PNG(testimg.TexturedStrip(800, 256, 100, 300, 160)), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := mustRead(t, filepath.Join(imgs, clean[0]))
	if err := os.WriteFile(filepath.Join(imgs, "cut.jpg"), cut[:len(cut)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	sorted := filepath.Join(dir, "sorted")
	for _, sub := range []string{"PASS", "REJECT"} {
		if err := os.MkdirAll(filepath.Join(sorted, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyStrips(t, filepath.Join(sorted, "PASS"), false, 3)
	copyStrips(t, filepath.Join(sorted, "REJECT"), true, 3)
	// a camera fault passed by mistake: flat grey with sensor noise
	fault := image.NewGray(image.Rect(0, 0, 1600, 256))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range fault.Pix {
		fault.Pix[i] = uint8(100 + 3*rng.NormFloat64())
	}
	if err := os.WriteFile(filepath.Join(sorted, "PASS", "fault.png"), testimg.PNG(fault), 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := learn.Learn(context.Background(), learn.Options{Labelled: []string{dir, sorted}, CacheDir: "-", Folds: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Learned
	why := map[string]string{}
	for _, s := range r.Skipped {
		why[filepath.Base(s.Path)] = s.Reason
	}
	for name, want := range map[string]string{
		bad[0]:        "runs past the end",
		"missing.jpg": "not in train_images",
		"small.png":   "mixed strip sizes: this one is 800×256",
		"cut.jpg":     "",
		"fault.png":   "no steel texture: flat frame",
	} {
		reason, ok := why[name]
		if !ok || !strings.Contains(reason, want) {
			t.Errorf("%s: left out %v with %q, want a line saying %q", name, ok, reason, want)
		}
	}
	// 5 masked defective + 3 sorted REJECT; 6 clean + 3 sorted PASS
	if r.Defective != 8 || r.Masked != 5 || r.Clean != 9 {
		t.Errorf("used %d defective (%d masked), %d clean; want 8 (5), 9", r.Defective, r.Masked, r.Clean)
	}
	if !strings.Contains(r.TooFew, "8 defective and 9 defect-free strips") {
		t.Errorf("16 labelled strips are too few to trust; the report warns %q", r.TooFew)
	}
}

// TestOneKindOnlyIsRefusedPlainly: labels of clean strips only, a folder in
// no known layout, and train_images/ without train.csv each get one line.
func TestOneKindOnlyIsRefusedPlainly(t *testing.T) {
	clean := t.TempDir()
	if err := os.MkdirAll(filepath.Join(clean, "PASS"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyStrips(t, filepath.Join(clean, "PASS"), false, 3)
	noCSV := t.TempDir()
	if err := os.MkdirAll(filepath.Join(noCSV, "train_images"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dir, want string }{
		{clean, "0 defective and 3 defect-free usable strips: learning needs both kinds"},
		{t.TempDir(), "no labelled strips: expected train_images/ with train.csv"},
		{noCSV, "has no train.csv beside it"},
		{filepath.Join(t.TempDir(), "absent"), "labelled folder"},
	} {
		_, err := learn.Learn(context.Background(), learn.Options{Labelled: []string{c.dir}, CacheDir: "-"})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line saying %q", c.dir, err, c.want)
		}
	}
}

// TestCancelledLearningStops: a cancelled context ends learning with the
// context's error; nothing is returned to save.
func TestCancelledLearningStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := learn.Learn(ctx, learn.Options{Labelled: []string{heldoutDir}, CacheDir: "-"})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled learning gave %v, %v", res, err)
	}
}

// TestLearnFromTheOperatorsDecisions: only strips a person decided are
// labels, their pixels come from the archive checked against the trail's
// sha256, and a trail with too few says how many more it needs.
func TestLearnFromTheOperatorsDecisions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "trail.db")
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	archived := filepath.Join(dir, "archive")
	if err := os.MkdirAll(archived, 0o755); err != nil {
		t.Fatal(err)
	}
	record := func(name string, defective bool, decide string) string {
		src := filepath.Join(heldoutDir, "train_images", name)
		data := mustRead(t, src)
		copyPath := filepath.Join(archived, name)
		if err := os.WriteFile(copyPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		id, err := store.Add(ctx, audit.Inspection{Source: "watch", Path: "/line/in/" + name, SHA256: inference.SHA256Hex(data),
			Width: 1600, Height: 256, Bytes: len(data), ModelName: "m", ModelVersion: "1", ModelSHA256: strings.Repeat("0", 64),
			PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.5, AutoDecision: verdict.Review, ArchivePath: copyPath})
		if err != nil {
			t.Fatal(err)
		}
		if decide != "" {
			d, err := verdict.ParseDecision(decide)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Review(ctx, id, d, "olga", ""); err != nil {
				t.Fatal(err)
			}
		}
		return copyPath
	}
	cleanDir, defDir := t.TempDir(), t.TempDir()
	clean := copyStrips(t, cleanDir, false, 5)
	bad := copyStrips(t, defDir, true, 4)
	record(clean[0], false, "PASS")
	record(bad[0], true, "REJECT")
	record(bad[1], true, "") // still waiting for a person: no label
	store.Close()

	_, err = learn.Learn(ctx, learn.Options{Trail: learn.TrailSource{DB: db}, CacheDir: "-"})
	if err == nil || !strings.Contains(err.Error(), "1 strips a person decided PASS and 1 decided REJECT") ||
		!strings.Contains(err.Error(), "1 more PASS and 1 more REJECT") {
		t.Fatalf("a trail with one decision of each: %v", err)
	}

	store, err = audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range clean[1:4] {
		record(n, false, "PASS")
	}
	for _, n := range bad[2:] {
		record(n, true, "REJECT")
	}
	tampered := record(bad[1], true, "REJECT") // its archive copy is then altered
	// a strip kept by no archive, which the hot folder moved into PASS/
	// after a person passed it: learning finds it where the trail says
	moved := clean[4]
	data := mustRead(t, filepath.Join(heldoutDir, "train_images", moved))
	filed := filepath.Join(dir, "PASS", "moved-"+moved)
	if err := os.MkdirAll(filepath.Dir(filed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	id, err := store.Add(ctx, audit.Inspection{Source: "watch", Path: "/line/in/REVIEW/moved-" + moved, SHA256: inference.SHA256Hex(data),
		Width: 1600, Height: 256, Bytes: len(data), ModelName: "m", ModelVersion: "1", ModelSHA256: strings.Repeat("0", 64),
		PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.5, AutoDecision: verdict.Review})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Review(ctx, id, verdict.Pass, "olga", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddMove(ctx, audit.FileMove{InspectionID: id, MovedBy: "olga", From: "/line/in/REVIEW/moved-" + moved, To: filed}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if err := os.WriteFile(tampered, mustRead(t, filepath.Join(heldoutDir, "train_images", clean[0])), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := learn.Learn(ctx, learn.Options{Trail: learn.TrailSource{DB: db}, CacheDir: "-", Folds: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Learned
	if r.Clean != 5 || r.Defective != 3 || r.Masked != 0 {
		t.Errorf("learned on %d clean and %d defective (%d masked); want the 5 PASS (one found where the hot folder moved it) and 3 REJECT a person decided", r.Clean, r.Defective, r.Masked)
	}
	found := false
	for _, s := range r.Skipped {
		found = found || strings.Contains(s.Reason, "no longer matches its record's sha256")
	}
	if !found {
		t.Errorf("the altered archive copy was not named: %v", r.Skipped)
	}
}

// TestNetworkHeadScoresAsLearned: with Head "mlp" the saved model carries
// a hidden layer, and the engine's patch probabilities are the network's,
// pooled and mapped, from the same backbone run.
func TestNetworkHeadScoresAsLearned(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "train_images")
	if err := os.MkdirAll(imgs, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := copyStrips(t, imgs, true, 5)
	copyStrips(t, imgs, false, 6)
	labels, _ := evaluate.ReadLabelsFile(filepath.Join(heldoutDir, "train.csv"))
	csv := "ImageId,ClassId,EncodedPixels\n"
	for _, id := range bad {
		s := labels.Strips[id]
		for _, c := range s.ClassIDs() {
			csv += fmt.Sprintf("%s,%d,%s\n", id, c, s.RLE[c])
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "train.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := learn.Learn(context.Background(), learn.Options{Labelled: []string{dir}, CacheDir: "-", Folds: 2, Head: learn.HeadMLP, Features: learn.FeaturesCells, Name: "net"})
	if err != nil {
		t.Fatal(err)
	}
	h := res.Manifest.Anomaly.Head
	if len(h.Hidden) != 16 || len(h.Hidden[0]) != len(h.Weights)+1 || !strings.Contains(h.Describe(), "16 hidden units") {
		t.Fatalf("head has %d hidden units of %d weights", len(h.Hidden), len(h.Hidden[0]))
	}
	path, err := res.Save(filepath.Join(dir, "net.manifest.json"), false)
	if err != nil {
		t.Fatal(err)
	}
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	strip := filepath.Join(imgs, bad[0])
	a, err := e.AnalyzeFile(context.Background(), strip)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := inference.DecodeImage(mustRead(t, strip), 0)
	g, err := e.CellGridOf(context.Background(), d.Image)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Patches {
		var cells []float32
		for r := p.Y / g.Cell; r < (p.Y+p.H)/g.Cell; r++ {
			for c := p.X / g.Cell; c < (p.X+p.W)/g.Cell; c++ {
				f := g.Feature(r, c)
				s := h.Bias
				for j, w := range h.Hidden {
					u := h.HiddenBias[j] + w[len(f)]*float64(g.Distances[r*g.Cols+c])
					for k, v := range f {
						u += w[k] * float64(v)
					}
					s += h.Output[j] * math.Max(u, 0)
				}
				cells = append(cells, float32(s))
			}
		}
		want := res.Manifest.Anomaly.Mapping.Probability(float64(inference.PoolCells(h.Pool, h.TopK, cells)))
		if math.Abs(float64(p.Probability-want)) > 1e-3 {
			t.Fatalf("patch at x=%d: engine %.5f, network %.5f", p.X, p.Probability, want)
		}
	}
}
