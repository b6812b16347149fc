package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"steelinspect/audit"
	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/learn"
	"steelinspect/station"
	"steelinspect/teach"
	"steelinspect/verdict"
)

// recordDecided records n held-out strips of one kind in store as REVIEWs
// an operator then decided, their archived copy the file itself.
func recordDecided(t *testing.T, store *audit.Store, defective bool, n int) {
	t.Helper()
	ctx := context.Background()
	labels, err := evaluate.ReadLabelsFile("../testdata/heldout/train.csv")
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("../testdata/heldout/train_images")
	for _, e := range entries {
		s := labels.Strips[e.Name()]
		if (s != nil && s.Defective()) != defective || n == 0 {
			continue
		}
		n--
		path, _ := filepath.Abs(filepath.Join("../testdata/heldout/train_images", e.Name()))
		data, _ := os.ReadFile(path)
		id, err := store.Add(ctx, audit.Inspection{Source: "window", Path: path, SHA256: inference.SHA256Hex(data),
			Width: 1600, Height: 256, Bytes: len(data), ModelName: "m", ModelVersion: "1", ModelSHA256: strings.Repeat("0", 64),
			PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.5, AutoDecision: verdict.Review, ArchivePath: path})
		if err != nil {
			t.Fatal(err)
		}
		decision := verdict.Pass
		if defective {
			decision = verdict.Reject
		}
		if err := store.Review(ctx, id, decision, "olga", ""); err != nil {
			t.Fatal(err)
		}
	}
}

// learnOptions learn from store's trail with the real learner (no feature
// cache, two folds, so the race-checked test stays quick).
func learnOptions(store *audit.Store) (func(context.Context, string, func(teach.Progress)) (*teach.Result, []string, error),
	func(context.Context) (map[verdict.Decision]int, error)) {
	run := func(ctx context.Context, name string, progress func(teach.Progress)) (*teach.Result, []string, error) {
		res, err := learn.Learn(ctx, learn.Options{Trail: learn.TrailSource{DB: store.Path()}, Name: name, CacheDir: "-",
			Folds: 2, Progress: progress})
		if err != nil {
			return nil, nil, err
		}
		return &res.Result, res.Learned.Lines(), nil
	}
	return run, func(ctx context.Context) (map[verdict.Decision]int, error) { return learn.Decided(ctx, store) }
}

// TestLearnFromDecisionsSaveAndUse: behind the supervisor's sign-in, the
// window counts the strips people decided, refuses to learn on too few,
// learns in the background, reports in plain words and, on Save and use,
// switches to the learned model, recorded in the trail.
func TestLearnFromDecisionsSaveAndUse(t *testing.T) {
	store := openStore(t)
	recordDecided(t, store, false, 1)
	modelsDir := filepath.Join(t.TempDir(), "models")
	run, decided := learnOptions(store)
	h := newHarness(t, Options{Station: onTrail(store), OpenModel: openerFor(t), Learn: run, Decided: decided, ModelsDir: modelsDir})
	h.ins.review.setOperator("alice")
	h.openPaths(defectStrip)
	if fileMenuItem(h, "Learn from decisions") == nil {
		t.Fatal("no Learn from decisions… in the File menu")
	}
	h.ins.showLearn()
	h.waitIdle()
	if h.ins.teach != nil {
		t.Fatal("learning offered while locked")
	}
	h.unlockAsSupervisor()

	// one decided strip: the dialog says how many more it needs
	h.ins.showLearn()
	h.waitFor("the trail to be counted", func() bool { return h.ins.teach != nil })
	tv := h.ins.teach
	if !tv.startBtn.Disabled() {
		t.Error("Learn enabled with 1 passed and 0 rejected strips")
	}
	tv.ask.Hide()
	h.ins.teach = nil

	recordDecided(t, store, false, 4)
	recordDecided(t, store, true, 4)
	h.ins.showLearn()
	h.waitFor("the trail to be counted", func() bool { return h.ins.teach != nil })
	tv = h.ins.teach
	if tv.startBtn.Disabled() {
		t.Fatal("Learn disabled with 4 passed and 4 rejected strips")
	}
	tv.nameIn.SetText("line-3-learned")
	test.Tap(tv.startBtn)
	h.waitFor("learning to report", func() bool { return h.ins.pending == 0 && tv.report != nil })
	h.waitIdle()
	if len(h.ins.errorsShown) > 0 {
		t.Fatalf("errors: %q", h.ins.errorsShown)
	}
	summary := strings.Join(tv.summary, "\n")
	for _, want := range []string{"Learned from 8 strips of 1600×256 px: 4 defective (0 with masks) and 4 defect-free",
		"defective strips auto-passed", "too few labels to trust"} {
		if !strings.Contains(summary, want) {
			t.Errorf("report lacks %q:\n%s", want, summary)
		}
	}
	if got := dirEntries(t, filepath.Dir(modelsDir)); len(got) != 0 {
		t.Fatalf("files written before Save and use: %q", got)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.teachIdle()
	h.confirmSwitch(station.Unchecked) // no check set registered
	if m := h.ins.models.manifest; m.Name != "line-3-learned" || !m.IsLearned() {
		t.Fatalf("model in use %q after Save and use", m.Name)
	}
	// the model panel says what it was learned from, not "taught on good strips"
	if d := h.ins.models.desc.Text; !strings.Contains(d, "Learned from 8 labelled strips of decisions in "+store.Path()) || strings.Contains(d, "Taught on") {
		t.Errorf("model panel says %q", d)
	}
	ch := modelChanges(t, store)
	if len(ch) != 1 || !strings.HasPrefix(ch[0].NewValue, "line-3-learned ") {
		t.Fatalf("switch to the learned model not recorded: %+v", ch)
	}
}
