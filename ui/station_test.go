package ui

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"
)

// stripPass is uniformly dark: every patch ≈0.235, PASS.
func stripPass() *image.Gray { return bandStrip(60, 60, 1600) }

func openStore(t *testing.T) *audit.Store {
	t.Helper()
	s, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStation(t *testing.T) (*harness, *audit.Store) {
	t.Helper()
	store := openStore(t)
	h := newHarness(t, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	return h, store
}

func history(t *testing.T, s *audit.Store) []audit.Inspection {
	t.Helper()
	rows, err := s.History(context.Background(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// stripFolder writes b1 (REVIEW), a (REJECT), sub/b2 (REVIEW), sub/c (PASS)
// and a text file into a folder.
func stripFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, dir, "1-b1.png", stripB())
	writePNG(t, dir, "2-a.png", stripA())
	writePNG(t, sub, "3-b2.png", stripB())
	writePNG(t, sub, "4-c.png", stripPass())
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a strip"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBatchFolderIsQueuedAndAudited(t *testing.T) {
	h, store := newStation(t)
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(stripFolder(t))})
	h.waitIdle()

	want := []struct{ name, auto string }{
		{"1-b1.png", "REVIEW"}, {"2-a.png", "REJECT"}, {"3-b2.png", "REVIEW"}, {"4-c.png", "PASS"},
	}
	if len(h.ins.processed.items) != len(want) {
		t.Fatalf("%d strips processed, want %d (errors %q)", len(h.ins.processed.items), len(want), h.ins.errorsShown)
	}
	rows := history(t, store)
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d", len(rows), len(want))
	}
	for k, w := range want {
		it := h.ins.processed.items[k]
		if it.name != w.name || it.auto.String() != w.auto {
			t.Errorf("item %d: %s %s, want %s %s", k, it.name, it.auto, w.name, w.auto)
		}
		if it.auditID != rows[k].ID || rows[k].AutoDecision.String() != w.auto || rows[k].Source != "window" ||
			filepath.Base(rows[k].Path) != w.name {
			t.Errorf("item %d (audit id %d) vs row %+v", k, it.auditID, rows[k])
		}
		// Memory stays flat: no decoded pixels kept, and a display image
		// only for the strip on screen.
		if it.analysis.Decoded.Image != nil {
			t.Errorf("item %d keeps its decoded image", k)
		}
		if it.display != nil && k != h.ins.current {
			t.Errorf("item %d keeps a display image while not shown", k)
		}
	}
	if h.ins.current != 0 || h.ins.card.decision.Text != "REVIEW" {
		t.Errorf("shown: %d %q, want the first strip", h.ins.current, h.ins.card.decision.Text)
	}
	if got := h.ins.processed.list.Length(); got != 4 {
		t.Errorf("list shows %d rows", got)
	}
	h.ins.processed.filter.SetSelected(filterReview)
	if len(h.ins.processed.visible) != 2 || h.ins.processed.visible[0] != 0 || h.ins.processed.visible[1] != 2 {
		t.Errorf("needs-review filter shows %v, want [0 2]", h.ins.processed.visible)
	}
	// Clicking a row shows that strip, decoded again from its file.
	h.ins.processed.list.Select(1)
	h.waitIdle()
	if h.ins.current != 2 || h.ins.strip.view.strip.Image == nil {
		t.Errorf("after clicking row 1: current %d", h.ins.current)
	}
	if h.ins.processed.items[0].display != nil {
		t.Error("the strip shown before keeps its display image")
	}
}

func TestReviewWithKeys(t *testing.T) {
	h, store := newStation(t)
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(stripFolder(t))})
	h.waitIdle()
	key := h.ins.Window().Canvas().OnTypedKey()

	key(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	rows := history(t, store)
	if !rows[0].OperatorDecision.Is(verdict.Pass) || rows[0].Operator != "alice" || rows[0].ReviewedAt.IsZero() {
		t.Errorf("after P: row %+v", rows[0])
	}
	if h.ins.current != 2 {
		t.Fatalf("after P the next review strip is not shown: current %d", h.ins.current)
	}
	if got := h.ins.review.info.Text; !strings.Contains(got, "Waiting for the operator") {
		t.Errorf("card review line %q", got)
	}
	key(&fyne.KeyEvent{Name: fyne.KeyR})
	h.waitIdle()
	rows = history(t, store)
	if !rows[2].OperatorDecision.Is(verdict.Reject) || rows[2].Operator != "alice" {
		t.Errorf("after R: row %+v", rows[2])
	}
	if h.ins.reviewCount() != 0 {
		t.Errorf("%d strips still need review", h.ins.reviewCount())
	}
	// Nothing left: the reviewed strip stays, showing who decided.
	if h.ins.current != 2 || !strings.Contains(h.ins.review.info.Text, "REJECT by alice") {
		t.Errorf("current %d, card %q", h.ins.current, h.ins.review.info.Text)
	}
	// A reviewed strip is not reviewed twice.
	key(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	if !history(t, store)[2].OperatorDecision.Is(verdict.Reject) {
		t.Error("a second key press changed the review")
	}
	if !rows[1].OperatorDecision.IsZero() || !rows[3].OperatorDecision.IsZero() {
		t.Errorf("automatic strips were reviewed: %+v %+v", rows[1], rows[3])
	}
}

func TestOverrideNeedsReason(t *testing.T) {
	h, store := newStation(t)
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	if h.ins.card.decision.Text != "REJECT" {
		t.Fatalf("decision %q", h.ins.card.decision.Text)
	}
	// P on an automatic REJECT asks for a reason rather than recording.
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyP})
	h.waitIdle()
	if !history(t, store)[0].OperatorDecision.IsZero() {
		t.Fatal("override recorded without asking for a reason")
	}
	if h.ins.Window().Canvas().Overlays().Top() == nil {
		t.Error("no reason dialog")
	}
	// The P that opened it does not type into it: nothing is focused, so
	// the key's rune goes nowhere.
	if f := h.ins.Window().Canvas().Focused(); f != nil {
		t.Errorf("the reason box took the focus from the key that opened it: %T", f)
	}

	h.ins.review.override("p")
	h.waitIdle()
	if !history(t, store)[0].OperatorDecision.IsZero() {
		t.Error("a one-letter reason was accepted")
	}
	h.ins.errorsShown = nil

	h.ins.review.override("  ")
	h.waitIdle()
	if !history(t, store)[0].OperatorDecision.IsZero() {
		t.Error("override without reason recorded")
	}
	if n := len(h.ins.errorsShown); n != 1 || !strings.Contains(h.ins.errorsShown[0], "needs a reason") {
		t.Errorf("refusal not shown: %q", h.ins.errorsShown)
	}

	h.ins.review.override("paint mark, not a scratch")
	h.waitIdle()
	row := history(t, store)[0]
	if !row.OperatorDecision.Is(verdict.Pass) || row.ReviewReason != "paint mark, not a scratch" || row.Operator != "alice" {
		t.Errorf("override row %+v", row)
	}
	if got := h.ins.review.info.Text; !strings.Contains(got, "PASS by alice") || !strings.Contains(got, "paint mark") {
		t.Errorf("card %q", got)
	}
	// The operator's PASS is the headline; the automatic REJECT stays
	// visible beneath it.
	if w := h.ins.card; w.decision.Text != "PASS" || w.decision.Color != decisionColor(verdict.Pass) ||
		!strings.Contains(w.level.Text, "Automatic decision: REJECT, overridden by alice") {
		t.Errorf("card after the override: %q in %v, %q", w.decision.Text, w.decision.Color, w.level.Text)
	}
}

// TestThresholdsNeverRelabelRecordedStrips: moving a threshold after a
// strip is recorded leaves its headline as recorded; the card says what
// the new thresholds would give.
func TestThresholdsNeverRelabelRecordedStrips(t *testing.T) {
	h, store := newStation(t)
	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB())) // 58.8 %: REVIEW at 0.40 / 0.65
	w := h.ins.card
	if w.decision.Text != "REVIEW" {
		t.Fatalf("decision %q", w.decision.Text)
	}
	h.unlockAsSupervisor()
	h.ins.settings.rejectSlider.SetValue(0.55)
	if w.decision.Text != "REVIEW" || !strings.Contains(w.level.Text, "Recorded as REVIEW; would be REJECT now") {
		t.Errorf("after moving the thresholds to %+v: %q, %q", h.ins.settings.thresholds, w.decision.Text, w.level.Text)
	}
	if rows := history(t, store); len(rows) != 1 || rows[0].AutoDecision != verdict.Review {
		t.Errorf("audit rows %+v", rows)
	}
	if d, ok := h.ins.decisionOf(h.ins.processed.items[0]); !ok || d != verdict.Review {
		t.Errorf("the Processed list shows %v (%v) after the threshold move, want the recorded REVIEW", d, ok)
	}
	if h.ins.reviewCount() != 1 {
		t.Errorf("%d strips need review after a threshold move, want the recorded REVIEW still waiting", h.ins.reviewCount())
	}
}

func TestSupervisorLock(t *testing.T) {
	h, store := newStation(t)
	if !h.ins.settings.passSlider.Disabled() || !h.ins.settings.rejectSlider.Disabled() || !h.ins.settings.resetBtn.Disabled() {
		t.Fatal("settings not locked at start")
	}
	if h.ins.settings.unlockBtn.Hidden || h.ins.settings.lockLabel.Text != "Locked (supervisor)" || h.ins.settings.rejectValue.Text != "0.65" {
		t.Errorf("lock row: unlock hidden %v, %q, value %q", h.ins.settings.unlockBtn.Hidden, h.ins.settings.lockLabel.Text, h.ins.settings.rejectValue.Text)
	}
	h.ins.settings.rejectSlider.SetValue(0.55)
	if h.ins.settings.thresholds.Reject != 0.65 {
		t.Errorf("locked slider changed the threshold to %v", h.ins.settings.thresholds.Reject)
	}

	// Without a supervisor on the station nobody can unlock: the first
	// to click does not become one.
	h.ins.checkUser("mallory", "whatever-pw", h.ins.showError, nil)
	h.waitIdle()
	if !h.ins.isLocked() || len(h.ins.errorsShown) != 1 || !strings.Contains(h.ins.errorsShown[0], "users add NAME --role admin") {
		t.Fatalf("unlock without a supervisor: locked %v, errors %q", h.ins.isLocked(), h.ins.errorsShown)
	}
	// A supervisor made on the command line signs in; an operator may not
	// unlock; a wrong password changes nothing. Each attempt is recorded.
	h.unlockAsSupervisor()
	if h.ins.settings.lockLabel.Text != "Unlocked by sup" {
		t.Errorf("lock label %q", h.ins.settings.lockLabel.Text)
	}
	h.ins.settings.Lock()
	if !h.ins.settings.passSlider.Disabled() {
		t.Fatal("Lock did not lock")
	}
	if err := store.AddUser(context.Background(), "test", "olga", audit.RoleOperator, "olga-pw-1"); err != nil {
		t.Fatal(err)
	}
	h.ins.errorsShown = nil
	for _, try := range []struct{ name, pw, want string }{
		{"olga", "olga-pw-1", "is an operator"}, {"sup", "wrong-pw", "wrong password"},
	} {
		h.ins.checkUser(try.name, try.pw, h.ins.showError, nil)
		h.waitIdle()
		if !h.ins.isLocked() || !h.ins.settings.rejectSlider.Disabled() {
			t.Fatalf("%s unlocked", try.name)
		}
		if n := len(h.ins.errorsShown); n == 0 || !strings.Contains(h.ins.errorsShown[n-1], try.want) {
			t.Errorf("%s: errors %q", try.name, h.ins.errorsShown)
		}
	}
	h.ins.checkUser(supervisorName, supervisorPassword, h.ins.showError, nil)
	h.waitIdle()
	if h.ins.isLocked() || h.ins.settings.rejectSlider.Disabled() {
		t.Fatal("the supervisor's sign-in did not unlock")
	}
	events, _ := store.AccessEvents(context.Background())
	var seen []string
	for _, e := range events {
		seen = append(seen, e.User+":"+e.Event)
	}
	for _, want := range []string{"sup:unlock", "sup:sign_out", "olga:unlock_refused", "sup:failed_sign_in"} {
		if !strings.Contains(strings.Join(seen, ","), want) {
			t.Errorf("access events %v lack %s", seen, want)
		}
	}
	// A drag: many steps, one record when it settles.
	h.ins.settings.rejectSlider.OnChanged(0.60)
	h.ins.settings.rejectSlider.OnChanged(0.57)
	h.ins.settings.rejectSlider.SetValue(0.55) // fires OnChanged and OnChangeEnded
	h.waitIdle()
	changes, err := store.SettingChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var thr []audit.SettingChange
	for _, c := range changes {
		// (the first start records the thresholds in force, by the station)
		if strings.HasSuffix(c.Setting, "_threshold") && !strings.HasPrefix(c.ChangedBy, "station") {
			thr = append(thr, c)
		}
	}
	if len(thr) != 1 || thr[0].Setting != "reject_threshold" || thr[0].OldValue != "0.65" || thr[0].NewValue != "0.55" ||
		!strings.Contains(thr[0].ChangedBy, "alice") {
		t.Errorf("setting changes %+v", changes)
	}

	// Idle: locks again by itself.
	h.ins.settings.lock.idle = 30 * time.Millisecond
	h.ins.settings.touch()
	time.Sleep(150 * time.Millisecond)
	h.waitIdle()
	if !h.ins.isLocked() {
		t.Error("settings did not lock again when idle")
	}
}

func TestCancelStopsBatch(t *testing.T) {
	h, store := newStation(t)
	dir := t.TempDir()
	const n = 40
	img := stripB()
	for k := range n {
		writePNG(t, dir, "s"+string(rune('a'+k/26))+string(rune('a'+k%26))+".png", img)
	}
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(dir)})
	deadline := time.After(30 * time.Second)
	for len(h.ins.processed.items) < 3 {
		select {
		case f := <-h.ui:
			f()
		case <-deadline:
			t.Fatal("batch did not start")
		}
	}
	if h.ins.w.batchBox.Hidden || !strings.Contains(h.ins.w.batchInfo.Text, "strips/s") ||
		h.ins.w.batchBar.Max != n || h.ins.w.batchBar.Value < 3 {
		t.Errorf("progress: hidden %v, %q, %v of %v", h.ins.w.batchBox.Hidden, h.ins.w.batchInfo.Text,
			h.ins.w.batchBar.Value, h.ins.w.batchBar.Max)
	}
	h.ins.cancelBatch()
	h.waitIdle()
	got := len(h.ins.processed.items)
	if got >= n {
		t.Fatalf("cancel did not stop the batch: %d of %d", got, n)
	}
	if rows := history(t, store); len(rows) != got {
		t.Errorf("%d audit rows for %d strips shown done", len(rows), got)
	}
	if !strings.Contains(h.ins.w.status.Text, "Cancelled") || len(h.ins.errorsShown) != 0 {
		t.Errorf("status %q, errors %q", h.ins.w.status.Text, h.ins.errorsShown)
	}
	if !h.ins.w.batchBox.Hidden {
		t.Error("progress still shown after the batch")
	}
	// The window keeps working: a new batch runs to the end.
	h.openPaths(writePNG(t, t.TempDir(), "after.png", stripA()))
	if len(h.ins.processed.items) != got+1 {
		t.Errorf("after cancel, a new load gave %d items", len(h.ins.processed.items))
	}
}

func TestHistoryFiltersAndExport(t *testing.T) {
	h, _ := newStation(t)
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(stripFolder(t))})
	h.waitIdle()
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyR})
	h.waitIdle()

	h.ins.showHistory()
	h.waitIdle()
	hv := h.ins.history
	if hv == nil || len(hv.rows) != 4 {
		t.Fatalf("history rows: %v", hv)
	}
	hv.decision.SetSelected("REJECT")
	hv.reload()
	h.waitIdle()
	if len(hv.rows) != 2 { // 2-a automatically, 1-b1 by alice
		t.Errorf("final REJECT: %d rows", len(hv.rows))
	}
	hv.operator.SetText("alice")
	hv.reload()
	h.waitIdle()
	if len(hv.rows) != 1 || hv.rows[0].Operator != "alice" {
		t.Errorf("alice's rejects: %+v", hv.rows)
	}
	hv.operator.SetText("")
	hv.decision.SetSelected(anyDecision)
	hv.since.SetText("2000-01-01")
	hv.until.SetText("2000-01-02")
	hv.reload()
	h.waitIdle()
	if len(hv.rows) != 0 {
		t.Errorf("rows from 2000: %d", len(hv.rows))
	}
	// A date it cannot read: one error, in a dialog Esc closes.
	hv.since.SetText("yesterday")
	hv.reload()
	if len(hv.errors) != 1 || hv.keys.top() == nil {
		t.Fatalf("bad date: errors %q, dialog open %v", hv.errors, hv.keys.top() != nil)
	}
	hv.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if hv.keys.top() != nil {
		t.Error("Esc did not close the history error")
	}
	hv.since.SetText("")
	hv.until.SetText("")
	out := filepath.Join(t.TempDir(), "audit.csv")
	hv.export(out)
	h.waitIdle()
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "id,") || !strings.Contains(string(data), "alice") {
		t.Errorf("CSV:\n%s", data)
	}
}

func TestSaveReportsForAll(t *testing.T) {
	h, _ := newStation(t)
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(stripFolder(t))})
	h.waitIdle()
	out := t.TempDir()
	h.ins.saveAllReports(out)
	h.waitIdle()
	for _, name := range []string{"1-b1.report.png", "2-a.report.png", "3-b2.report.png", "4-c.report.png"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(h.ins.errorsShown) != 0 {
		t.Errorf("errors %q", h.ins.errorsShown)
	}
}

func TestWatchFolderAddsResults(t *testing.T) {
	h, store := newStation(t)
	dir := t.TempDir()
	var played []verdict.Decision
	var playedMu sync.Mutex
	h.ins.watch.play = func(d verdict.Decision) error {
		playedMu.Lock()
		defer playedMu.Unlock()
		played = append(played, d)
		return nil
	}
	h.ins.watch.start(dir)
	if !h.ins.watch.sound.Visible() {
		t.Error("no Sound choice while watching")
	}
	h.ins.watch.sound.SetChecked(true)
	writePNG(t, dir, "hot.png", stripA())
	deadline := time.Now().Add(15 * time.Second)
	for len(h.ins.processed.items) == 0 && time.Now().Before(deadline) {
		select {
		case f := <-h.ui:
			f()
		case <-time.After(50 * time.Millisecond):
		}
	}
	// A REJECT arriving is announced in the watch banner.
	if l := h.ins.watch.banner; !strings.Contains(l.Text, "REJECT arrived: hot.png") || l.Importance != widget.DangerImportance {
		t.Errorf("arrival not announced: %q (importance %v)", l.Text, l.Importance)
	}
	h.waitIdle()
	playedMu.Lock()
	if len(played) != 1 || played[0] != verdict.Reject {
		t.Errorf("sounds played %v, want one REJECT", played)
	}
	playedMu.Unlock()
	if !h.app.Preferences().Bool(prefWatchSound) {
		t.Error("the Sound choice is not kept")
	}
	// New thresholds restart the watcher with them.
	h.unlockAsSupervisor()
	h.waitIdle()
	h.ins.settings.rejectSlider.SetValue(0.55)
	h.waitIdle()
	if h.ins.watch.run == nil || !strings.Contains(h.ins.watch.banner.Text, "reject 0.55") {
		t.Errorf("watch after a threshold change: %v %q", h.ins.watch, h.ins.watch.banner.Text)
	}
	h.ins.watch.toggle() // stops
	h.waitIdle()
	if h.ins.watch.run != nil || h.ins.watch.button.Text != "Watch folder…" {
		t.Errorf("still watching: %q", h.ins.watch.button.Text)
	}
	if len(h.ins.processed.items) != 1 {
		t.Fatalf("%d items from the hot folder", len(h.ins.processed.items))
	}
	it := h.ins.processed.items[0]
	if it.auto != verdict.Reject || it.path != filepath.Join(dir, "REJECT", "hot.png") {
		t.Errorf("item %s %s", it.auto, it.path)
	}
	rows := history(t, store)
	if len(rows) != 1 || rows[0].Source != "watch" || it.auditID != rows[0].ID {
		t.Errorf("rows %+v, item audit id %d", rows, it.auditID)
	}
}

func TestModelChangeNeedsPINAndIsRecorded(t *testing.T) {
	store := openStore(t)
	opener := func(path string) (Analyzer, error) { return openCounting(t, path), nil }
	h := newHarness(t, Options{Station: onTrail(store), OpenModel: opener})
	h.ins.review.setOperator("alice")
	if !h.ins.w.modelBtn.Disabled() || !h.ins.models.openBtn.Disabled() {
		t.Fatal("Open model… enabled while locked")
	}
	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.waitIdle()
	if h.ins.models.manifest.Name != "tiny-nchw" {
		t.Fatal("model changed while locked")
	}
	h.unlockAsSupervisor()
	h.waitIdle()
	if h.ins.w.modelBtn.Disabled() {
		t.Fatal("Open model… disabled after unlocking")
	}
	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.confirmSwitch(station.Unchecked)
	if h.ins.models.manifest.Name != "tiny-nhwc" {
		t.Fatalf("model %q after unlocking", h.ins.models.manifest.Name)
	}
	changes, err := store.SettingChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var model *audit.SettingChange
	for k := range changes {
		if changes[k].Setting == "model" {
			model = &changes[k]
		}
	}
	if model == nil || !strings.HasPrefix(model.OldValue, "tiny-nchw") || !strings.HasPrefix(model.NewValue, "tiny-nhwc") {
		t.Errorf("model change not recorded: %+v", changes)
	}
}

// A file that disappears after the batch was listed (moved away by another
// program, say) is reported by name and the rest of the batch is scored and
// recorded.
func TestFileVanishingWhileQueued(t *testing.T) {
	h, store := newStation(t)
	// Unbuffered: the worker waits on each hand-over, so the test decides
	// exactly when the batch moves on.
	h.ui = make(chan func())
	dir := t.TempDir()
	names := []string{"1.png", "2.png", "3.png", "4.png", "5.png"}
	for _, n := range names {
		writePNG(t, dir, n, stripB())
	}
	h.ins.openURIs([]fyne.URI{storage.NewFileURI(dir)})
	first := <-h.ui // batchQueued: listed, nothing scored yet
	for _, n := range []string{"2.png", "4.png"} {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	first()
	h.waitIdle()

	var got []string
	for _, it := range h.ins.processed.items {
		got = append(got, it.name)
	}
	if strings.Join(got, ",") != "1.png,3.png,5.png" {
		t.Errorf("processed %v, want 1, 3 and 5", got)
	}
	if rows := history(t, store); len(rows) != 3 {
		t.Errorf("%d audit rows, want 3", len(rows))
	}
	if len(h.ins.errorsShown) != 1 {
		t.Fatalf("errors shown: %q", h.ins.errorsShown)
	}
	msg := h.ins.errorsShown[0]
	if !strings.Contains(msg, "2 of 5") || !strings.Contains(msg, "2.png") || !strings.Contains(msg, "4.png") ||
		!strings.Contains(msg, "no such file") {
		t.Errorf("error shown: %q", msg)
	}
	if h.ins.w.batchBar.Value != 5 || !h.ins.w.batchBox.Hidden {
		t.Errorf("progress after the batch: %v of 5, hidden %v", h.ins.w.batchBar.Value, h.ins.w.batchBox.Hidden)
	}
}

// TestHistoryOpensArchivedStrip: a strip archived by the window opens
// from the history with its report, checked against the record's
// sha256; a file changed since reads as not matching.
func TestHistoryOpensArchivedStrip(t *testing.T) {
	store := openStore(t)
	arch, err := archive.New(archive.Policy{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: station.FromParts(store, arch, nil)})
	h.ins.review.setOperator("alice")
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA())) // REJECT
	h.ins.showHistory()
	h.waitIdle()
	hv := h.ins.history
	if len(hv.rows) != 1 || hv.rows[0].ArchivePath == "" {
		t.Fatalf("history rows %+v", hv.rows)
	}
	if !hv.archiveBtn.Disabled() {
		t.Error("Archived strip… enabled with no row selected")
	}
	hv.table.Select(widget.TableCellID{Row: 0, Col: 1})
	if hv.archiveBtn.Disabled() {
		t.Fatal("Archived strip… disabled on an archived row")
	}
	test.Tap(hv.archiveBtn)
	h.waitIdle()
	if hv.archived == nil || !hv.archived.matches || hv.archived.image.Bounds().Dx() != 1600 || hv.keys.top() == nil {
		t.Fatalf("archived view %+v, errors %q", hv.archived, hv.errors)
	}
	os.WriteFile(hv.rows[0].ArchivePath, []byte("tampered"), 0o644)
	hv.archived = nil
	test.Tap(hv.archiveBtn)
	h.waitIdle()
	if hv.archived == nil || hv.archived.matches {
		t.Errorf("a changed archive file reads as matching: %+v", hv.archived)
	}
}
