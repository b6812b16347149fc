package ui

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/station"
	"steelinspect/teach"
	"steelinspect/verdict"
)

const (
	goodStrips = "../testdata/good-base/train_images"
	// defectStrip is a held-out strip with a large class-4 defect.
	defectStrip = "../testdata/heldout/train_images/7bfa6daa5.jpg"
)

// teachSmall is teach.Teach with a smaller pool and bank than the
// station's, so that the race-checked tests stay quick; the model is as
// real as the station's.
func teachSmall(ctx context.Context, folder, name string, progress func(teach.Progress)) (*teach.Result, error) {
	return teach.Teach(ctx, teach.Options{Good: folder, Name: name, BankRows: 512, PoolCells: 8000, Progress: progress})
}

var (
	taughtOnce   sync.Once
	taughtResult *teach.Result
	taughtErr    error
)

// taughtModel saves a model taught once on goodStrips (shared by the
// tests) into a fresh folder and returns its manifest's path.
func taughtModel(t *testing.T) string {
	t.Helper()
	taughtOnce.Do(func() {
		taughtResult, taughtErr = teachSmall(context.Background(), goodStrips, "good-steel-test", nil)
	})
	if taughtErr != nil {
		t.Fatalf("teach: %v", taughtErr)
	}
	path, err := taughtResult.Save(teach.ManifestPath(t.TempDir(), taughtResult.Manifest.Name), false)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// openerFor opens real engines for the window's OpenModel.
func openerFor(t *testing.T) func(string) (Analyzer, error) {
	return func(path string) (Analyzer, error) {
		e, err := inference.OpenModel(path, inference.EngineOptions{Threads: 1})
		if err != nil {
			return nil, err
		}
		return &countingAnalyzer{Analyzer: e}, nil
	}
}

// waitFor runs queued UI work until cond holds; teaching takes longer
// than waitIdle allows.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(3 * time.Minute)
	for !cond() {
		select {
		case f := <-h.ui:
			f()
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// teachIdle waits for teaching (and everything else) to finish.
func (h *harness) teachIdle() {
	h.t.Helper()
	h.waitFor("teaching to end", func() bool { return h.ins.pending == 0 && h.ins.busy == 0 })
	h.waitIdle()
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func fileMenuItem(h *harness, prefix string) *fyne.MenuItem {
	for _, it := range h.ins.win.MainMenu().Items[0].Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
	}
	return nil
}

func modelChanges(t *testing.T, store *audit.Store) []audit.SettingChange {
	t.Helper()
	changes, err := store.SettingChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.SettingChange
	for _, c := range changes {
		if c.Setting == "model" {
			out = append(out, c)
		}
	}
	return out
}

// The whole flow: locked until the supervisor unlocks, a name asked for,
// teaching in the background with progress, the report in plain words,
// Save and use switching the station (recorded), and Back to the model
// before (recorded too).
func TestTeachSaveAndUseThenBack(t *testing.T) {
	store := openStore(t)
	modelsDir := filepath.Join(t.TempDir(), "models") // created on save
	h := newHarness(t, Options{Station: onTrail(store), OpenModel: openerFor(t), Teach: teachSmall, ModelsDir: modelsDir})
	h.ins.review.setOperator("alice")
	h.openPaths(defectStrip)

	if fileMenuItem(h, "Teach good steel") == nil {
		t.Fatal("no Teach good steel… in the File menu")
	}
	if !h.ins.models.teachBtn.Visible() || !h.ins.models.teachBtn.Disabled() {
		t.Fatal("Teach good steel… not shown, or enabled while locked")
	}
	h.ins.showTeach()
	h.waitIdle()
	if h.ins.teach != nil {
		t.Fatal("teaching started while locked")
	}
	h.unlockAsSupervisor()
	h.waitIdle()
	if h.ins.models.teachBtn.Disabled() {
		t.Fatal("Teach good steel… disabled after unlocking")
	}
	if h.ins.models.backBtn.Visible() || fileMenuItem(h, "Back to") != nil {
		t.Fatal("Back to offered before any switch")
	}

	h.ins.askTeachName(goodStrips)
	tv := h.ins.teach
	if tv == nil || tv.nameIn.Text != "good-steel-train_images" {
		t.Fatalf("default name not offered: %+v", tv)
	}
	tv.nameIn.SetText("line 3") // a space cannot name a file
	if !tv.startBtn.Disabled() {
		t.Fatalf("Teach enabled for the name %q", tv.nameIn.Text)
	}
	tv.nameIn.SetText("line-3")
	if tv.startBtn.Disabled() {
		t.Fatal("Teach disabled for a good name")
	}
	var stages []string
	test.Tap(tv.startBtn)
	h.waitFor("teaching to report", func() bool {
		if tv.stage != nil && (len(stages) == 0 || stages[len(stages)-1] != tv.stage.Text) {
			stages = append(stages, tv.stage.Text)
		}
		return h.ins.pending == 0
	})
	h.waitIdle()
	if len(stages) < 3 {
		t.Errorf("progress stages shown: %q", stages)
	}
	if !strings.HasPrefix(tv.times.Text, "Elapsed ") {
		t.Errorf("times %q", tv.times.Text)
	}
	if len(h.ins.errorsShown) > 0 {
		t.Fatalf("errors: %q", h.ins.errorsShown)
	}
	if tv.result == nil || tv.report == nil {
		t.Fatal("no report after teaching")
	}
	rep := tv.result.Report
	if rep.Taught+len(rep.HeldOut) < teach.MinGoodStrips {
		t.Fatalf("taught %d, held out %d", rep.Taught, len(rep.HeldOut))
	}
	summary := strings.Join(tv.summary, "\n")
	for _, want := range []string{
		"Taught on " + strconv.Itoa(rep.Taught) + " good strips of 1600×256 px",
		strconv.Itoa(len(rep.HeldOut)) + " good strips were held out",
		"New good strips expected to auto-pass: " + percent(rep.NewGoodPassShare),
		"Memory bank: 512 cell features",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("report lacks %q:\n%s", want, summary)
		}
	}
	if got := dirEntries(t, filepath.Dir(modelsDir)); len(got) != 0 {
		t.Fatalf("files written before Save and use: %q", got)
	}

	// Enter is Save and use
	if top := h.ins.topDialog(); top == nil || top.d != tv.report {
		t.Fatal("the report is not the keyed dialog on top")
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.teachIdle()
	h.confirmSwitch(station.Unchecked)
	if h.ins.models.manifest.Name != "line-3" || !h.ins.models.manifest.IsAnomaly() {
		t.Fatalf("model in use %q after Save and use", h.ins.models.manifest.Name)
	}
	if h.ins.teach != nil {
		t.Error("teach flow not finished")
	}
	for _, f := range []string{"line-3.onnx", "line-3.bank", "line-3.manifest.json"} {
		if _, err := os.Stat(filepath.Join(modelsDir, f)); err != nil {
			t.Errorf("not saved: %v", err)
		}
	}
	if a := h.ins.currentAnalysis(); a == nil || a.Model.Name != "line-3" || a.Cells == nil {
		t.Fatalf("shown strip not scored by the taught model: %+v", a)
	}
	ch := modelChanges(t, store)
	if len(ch) != 1 || !strings.HasPrefix(ch[0].OldValue, "tiny-nchw") || !strings.HasPrefix(ch[0].NewValue, "line-3 ") ||
		!strings.Contains(ch[0].NewValue, modelsDir) {
		t.Fatalf("switch to the taught model not recorded: %+v", ch)
	}

	if !h.ins.models.backBtn.Visible() || !strings.HasPrefix(h.ins.models.backBtn.Text, "Back to tiny-nchw") {
		t.Fatalf("back button %q (shown %v)", h.ins.models.backBtn.Text, h.ins.models.backBtn.Visible())
	}
	back := fileMenuItem(h, "Back to tiny-nchw")
	if back == nil {
		t.Fatal("no Back to tiny-nchw in the File menu")
	}
	back.Action()
	h.confirmSwitch(station.Unchecked)
	if h.ins.models.manifest.Name != "tiny-nchw" {
		t.Fatalf("model %q after Back", h.ins.models.manifest.Name)
	}
	ch = modelChanges(t, store)
	if len(ch) != 2 || !strings.HasPrefix(ch[1].OldValue, "line-3 ") || !strings.HasPrefix(ch[1].NewValue, "tiny-nchw") {
		t.Fatalf("switch back not recorded: %+v", ch)
	}
	if a := h.ins.currentAnalysis(); a == nil || a.Model.Name != "tiny-nchw" || a.Cells != nil {
		t.Errorf("shown strip not scored again by the first model")
	}
	// And the taught model is now the one a click away.
	if fileMenuItem(h, "Back to line-3") == nil || !strings.HasPrefix(h.ins.models.backBtn.Text, "Back to line-3") {
		t.Errorf("taught model not offered back: %q", h.ins.models.backBtn.Text)
	}
	test.Tap(h.ins.models.backBtn)
	h.confirmSwitch(station.Unchecked)
	if h.ins.models.manifest.Name != "line-3" || len(modelChanges(t, store)) != 3 {
		t.Errorf("back button: model %q, %d changes", h.ins.models.manifest.Name, len(modelChanges(t, store)))
	}
}

// Cancel stops teaching (the teach function itself returns
// context.Canceled), says so, and leaves nothing in the models folder.
func TestTeachCancelWritesNothing(t *testing.T) {
	modelsDir := t.TempDir()
	var teachErr error
	run := func(ctx context.Context, folder, name string, progress func(teach.Progress)) (*teach.Result, error) {
		res, err := teachSmall(ctx, folder, name, progress)
		teachErr = err
		return res, err
	}
	h := newHarness(t, Options{OpenModel: openerFor(t), Teach: run, ModelsDir: modelsDir})
	h.ins.askTeachName(goodStrips)
	tv := h.ins.teach
	test.Tap(tv.startBtn)
	h.waitFor("the first progress", func() bool { return tv.stage.Text != "Starting…" })
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // Esc is Cancel
	h.teachIdle()
	if !errors.Is(teachErr, context.Canceled) {
		t.Fatalf("teaching not cancelled: %v", teachErr)
	}
	if len(h.ins.messagesShown) != 1 || !strings.HasPrefix(h.ins.messagesShown[0], "Teaching cancelled: ") ||
		!strings.Contains(h.ins.messagesShown[0], "nothing was saved") {
		t.Errorf("messages %q", h.ins.messagesShown)
	}
	if len(h.ins.errorsShown) > 0 || tv.report != nil || h.ins.teach != nil {
		t.Errorf("errors %q, report %v, flow %v", h.ins.errorsShown, tv.report, h.ins.teach)
	}
	if got := dirEntries(t, modelsDir); len(got) != 0 {
		t.Errorf("cancelled teaching left %q", got)
	}
	if h.ins.models.manifest.Name != "tiny-nchw" {
		t.Errorf("model %q", h.ins.models.manifest.Name)
	}
}

// A folder with too few strips fails with teach's one-line reason.
func TestTeachTooFewStrips(t *testing.T) {
	few := t.TempDir()
	names := dirEntries(t, goodStrips)[:5]
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(goodStrips, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(few, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modelsDir := t.TempDir()
	h := newHarness(t, Options{OpenModel: openerFor(t), Teach: teachSmall, ModelsDir: modelsDir})
	// Esc typed into the name box gives up; nothing starts
	h.ins.askTeachName(few)
	h.ins.teach.nameIn.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ins.teach != nil || h.ins.topDialog() != nil {
		t.Fatal("Esc in the name box did not close the teach prompt")
	}
	// Enter in the name box starts teaching
	h.ins.askTeachName(few)
	h.ins.teach.nameIn.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.teachIdle()
	if len(h.ins.errorsShown) != 1 {
		t.Fatalf("errors %q", h.ins.errorsShown)
	}
	msg := h.ins.errorsShown[0]
	if !strings.HasPrefix(msg, "Teaching failed: ") || !strings.Contains(msg, "5 usable strips") ||
		!strings.Contains(msg, "at least "+strconv.Itoa(teach.MinGoodStrips)) || strings.Contains(msg, "\n") {
		t.Errorf("error %q", msg)
	}
	if h.ins.teach != nil || len(dirEntries(t, modelsDir)) != 0 {
		t.Error("failed teaching left a flow or files")
	}
}

// overlayPixels copies the strip overlay's pixels.
func overlayPixels(t *testing.T, h *harness) *image.NRGBA {
	t.Helper()
	img, ok := h.ins.strip.view.overlay.Image.(*image.NRGBA)
	if !ok || img == nil {
		t.Fatalf("overlay %T", h.ins.strip.view.overlay.Image)
	}
	return &image.NRGBA{Pix: bytes.Clone(img.Pix), Stride: img.Stride, Rect: img.Rect}
}

// The fine map draws each 16-pixel cell in the colour of its own zone,
// follows the thresholds without inferring again, and leaves the patch
// zones and the decision as they are.
func TestFineMapDrawsCells(t *testing.T) {
	model := openCounting(t, taughtModel(t))
	h := newHarness(t, Options{Model: model})
	h.ins.strip.fineMap.SetChecked(false)
	h.openPaths(defectStrip)
	a := h.ins.currentAnalysis()
	if a == nil || a.Cells == nil || a.Cells.Cell != 16 {
		t.Fatalf("taught model gave no cell map: %+v", a)
	}
	f := h.ins.strip.fineMap
	if f.Disabled() || f.Text != "Fine map (16 px cells)" {
		t.Fatalf("fine map %q disabled=%v for an anomaly model", f.Text, f.Disabled())
	}
	patchMap := overlayPixels(t, h)
	decision, zones := h.ins.card.decision.Text, slices.Clone(h.ins.verdict.Zones)
	runs := model.calls.Load()

	test.Tap(f)
	if !f.Checked {
		t.Fatal("fine map not on")
	}
	fine := overlayPixels(t, h)
	if bytes.Equal(fine.Pix, patchMap.Pix) {
		t.Fatal("the fine map did not change the overlay")
	}
	// Each cell's centre has its own zone's colour, but where a patch
	// outline (opaque) crosses it.
	thr := h.ins.settings.thresholds
	s := overlayScale(a.Image.Width, a.Image.Height)
	alpha := overlayAlpha(h.ins.strip.opacity.Value)
	var matched, outlined, zonesSeen = 0, 0, map[verdict.Zone]bool{}
	for row := range a.Cells.Rows {
		for col := range a.Cells.Cols {
			v := float64(a.Cells.Values[row*a.Cells.Cols+col])
			z := verdict.ZoneOf(v, thr)
			c := fine.NRGBAAt(int((float64(col*16)+8)*s), int((float64(row*16)+8)*s))
			want := zoneColor(z)
			switch {
			case c.A == 0xff:
				outlined++
			case c.R == want.R && c.G == want.G && c.B == want.B && c.A == alpha:
				matched++
				zonesSeen[z] = true
			}
		}
	}
	cells := a.Cells.Rows * a.Cells.Cols
	if matched+outlined != cells || matched < cells/2 {
		t.Errorf("%d of %d cells in their zone's colour, %d under outlines", matched, cells, outlined)
	}
	if len(zonesSeen) < 2 {
		t.Errorf("a defective strip's cells all in one zone: %v", zonesSeen)
	}
	if h.ins.card.decision.Text != decision || !slices.Equal(h.ins.verdict.Zones, zones) {
		t.Error("the fine map changed the decision or the patch zones")
	}

	// Thresholds recolour the cells without inferring again.
	h.ins.settings.passSlider.SetValue(passMin)
	h.ins.settings.rejectSlider.SetValue(rejectMin)
	h.waitIdle()
	if bytes.Equal(overlayPixels(t, h).Pix, fine.Pix) {
		t.Error("the fine map did not follow the thresholds")
	}
	if model.calls.Load() != runs {
		t.Errorf("thresholds ran the model %d more times", model.calls.Load()-runs)
	}
	test.Tap(f)
	h.ins.settings.passSlider.SetValue(thr.Pass)
	h.ins.settings.rejectSlider.SetValue(thr.Reject)
	h.waitIdle()
	if !bytes.Equal(overlayPixels(t, h).Pix, patchMap.Pix) {
		t.Error("turning the fine map off did not bring back the patch heatmap")
	}
}

// The bundled classifier gives no cell map: the fine map is unavailable
// and, even if left on from before, the patch heatmap is drawn.
func TestFineMapUnavailableForClassifier(t *testing.T) {
	e, err := models.OpenDefault(inference.EngineOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Model: &countingAnalyzer{Analyzer: e}})
	h.app.Preferences().SetBool(prefFineMap, true)
	h.ins.strip.fineMap.Checked = true
	h.openPaths(defectStrip)
	a := h.ins.currentAnalysis()
	if a == nil || a.Cells != nil {
		t.Fatalf("the bundled classifier gave a cell map: %+v", a)
	}
	if f := h.ins.strip.fineMap; !f.Disabled() || f.Text != "Fine map (taught models)" {
		t.Errorf("fine map %q disabled=%v for a classifier", f.Text, f.Disabled())
	}
	want := composeOverlay(a.Image.Width, a.Image.Height, a.Patches, h.ins.verdict.Zones, h.ins.strip.opacity.Value)
	if !bytes.Equal(overlayPixels(t, h).Pix, want.Pix) {
		t.Error("a classifier's overlay is not the patch heatmap")
	}
}

func TestTeachSummaryInPlainWords(t *testing.T) {
	rep := teach.Report{Folder: "/line3/good", Found: 52, Width: 1600, Height: 256, Taught: 40,
		HeldOut: make([]teach.StripScore, 10), Unreadable: []teach.Skipped{{Path: "/line3/good/x.jpg", Reason: "truncated"}},
		Flagged:  []teach.Skipped{{Path: "/line3/good/a/y.png", Reason: "far from the others"}},
		BankRows: 4096, BankBytes: 5 << 20, PassShare: 1, NewGoodPassShare: 0.875,
		ProbabilityMin: 0.01, ProbabilityMedian: 0.1, ProbabilityMax: 0.25, Duration: 12300 * time.Millisecond}
	got := teachSummary(rep, 0.3)
	want := []string{
		"Taught on 40 good strips of 1600×256 px from /line3/good (52 image files found, 2 left out).",
		"10 good strips were held out to test it. At the model's default thresholds 100.0 % of them would be auto-passed, 0.0 % sent to review and 0.0 % rejected.",
		"New good strips expected to auto-pass: 87.5 % (each held-out strip judged by a model fitted on the others).",
		"Defect probability of the held-out strips: lowest 0.010, median 0.100, highest 0.250 (auto-pass below 0.30).",
		"Memory bank: 4096 cell features, 5.0 MB in memory. Taught in 12.3s.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := leftOutText(rep); l != "unreadable  x.jpg: truncated\nunlike      a/y.png: far from the others" {
		t.Errorf("left out %q", l)
	}
	if l := leftOutText(teach.Report{}); !strings.HasPrefix(l, "None") {
		t.Errorf("nothing left out: %q", l)
	}
}
