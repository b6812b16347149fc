package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/verdict"
)

const heldoutDir = "../testdata/heldout"

func TestCalibrateMenuOpensOneWindow(t *testing.T) {
	h := newHarness(t, Options{})
	var item *fyne.MenuItem
	for _, m := range h.ins.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Label == "Calibrate thresholds…" {
				item = it
			}
		}
	}
	if item == nil {
		t.Fatal("no Calibrate thresholds… menu item")
	}
	item.Action()
	c := h.ins.calibrate
	if c == nil {
		t.Fatal("the menu item opened nothing")
	}
	t.Cleanup(func() {
		if h.ins.calibrate == c {
			c.win.Close()
		}
	})
	item.Action()
	if h.ins.calibrate != c {
		t.Error("a second Calibrate window was opened")
	}
	if !c.suggestBtn.Disabled() || !c.applyBtn.Disabled() || c.missed.Text != "–" {
		t.Error("Suggest or Apply enabled before anything was scored")
	}
	c.win.Close()
	if h.ins.calibrate != nil {
		t.Error("closing the window left it registered")
	}
}

// openCalibrate opens the Calibrate window on a harness.
func openCalibrate(t *testing.T, h *harness) *calibrateView {
	t.Helper()
	h.ins.showCalibrate()
	c := h.ins.calibrate
	if c == nil {
		t.Fatalf("no Calibrate window (errors %q)", h.ins.errorsShown)
	}
	c.win.Resize(fyne.NewSize(1240, 820))
	t.Cleanup(func() {
		if h.ins.calibrate == c { // the test driver panics on a second Close
			c.win.Close()
		}
	})
	return c
}

// loadHeldout scores the held-out set and checks it against an
// evaluation of the same strips with a model of its own.
func loadHeldout(t *testing.T, h *harness, c *calibrateView) {
	t.Helper()
	c.loadFolder(heldoutDir)
	h.waitIdle()
	if c.report == nil {
		t.Fatalf("nothing scored; messages %q", c.messages)
	}
	if len(c.confidence) != 60 {
		t.Fatalf("%d strips scored, want 60 (problems %q)", len(c.confidence), c.report.Problems)
	}
}

// heldoutTruth evaluates the held-out set directly with evaluate.Run.
func heldoutTruth(t *testing.T) ([]float64, []bool) {
	t.Helper()
	e, err := inference.OpenModel(tinyModel, inference.EngineOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	labels, err := evaluate.ReadLabelsFile(filepath.Join(heldoutDir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := evaluate.Run(context.Background(), e, filepath.Join(heldoutDir, "train_images"), labels, verdict.DefaultThresholds, 0)
	if err != nil {
		t.Fatal(err)
	}
	return scoredStrips(r)
}

// assertTable checks every number the table shows against
// evaluate.OutcomeAt at the pair on screen.
func assertTable(t *testing.T, c *calibrateView, conf []float64, def []bool) evaluate.StripOutcome {
	t.Helper()
	o := evaluate.OutcomeAt(conf, def, c.thresholds)
	want := map[string]string{
		"missed":       fmt.Sprintf("%d of %d (%s)", o.Missed, o.Defective, percent(o.MissedRate)),
		"false alarms": fmt.Sprintf("%d of %d (%s)", o.FalseAlarms, o.Strips-o.Defective, percent(o.FalseAlarmRate)),
		"review":       fmt.Sprintf("%d of %d (%s)", o.Reviewed, o.Strips, percent(o.ReviewRate)),
		"automation":   percent(o.AutomationRate),
	}
	got := map[string]string{"missed": c.missed.Text, "false alarms": c.falseAlarms.Text, "review": c.review.Text, "automation": c.automation.Text}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s at %.2f/%.2f shows %q, want %q", k, c.thresholds.Pass, c.thresholds.Reject, got[k], want[k])
		}
	}
	for d := range o.Table {
		for tr := range o.Table[d] {
			if got := c.cells[d][tr].Text; got != strconv.Itoa(o.Table[d][tr]) {
				t.Errorf("cell %v × %d shows %q, want %d", verdict.Decision(d), tr, got, o.Table[d][tr])
			}
		}
	}
	return o
}

func TestCalibrateTableDragAndSuggest(t *testing.T) {
	h := newHarness(t, Options{})
	c := openCalibrate(t, h)
	loadHeldout(t, h, c)
	conf, def := heldoutTruth(t)
	for k := range conf {
		if conf[k] != c.confidence[k] || def[k] != c.defective[k] {
			t.Fatalf("strip %d: %v %v, evaluate.Run says %v %v", k, c.confidence[k], c.defective[k], conf[k], def[k])
		}
	}
	if c.thresholds != h.ins.settings.thresholds {
		t.Errorf("starts at %+v, the station uses %+v", c.thresholds, h.ins.settings.thresholds)
	}
	before := assertTable(t, c, conf, def)
	if c.suggestBtn.Disabled() || c.applyBtn.Disabled() || !c.progressBox.Hidden {
		t.Error("buttons not ready after scoring")
	}

	// Drag the pass line to the nearest value that changes the table.
	oldPass := c.thresholds.Pass
	target := -1.0
	for v := round2(oldPass - thresholdStep); v >= passMin; v = round2(v - thresholdStep) {
		o := evaluate.OutcomeAt(conf, def, verdict.Thresholds{Pass: v, Reject: c.thresholds.Reject})
		if o.Table != before.Table {
			target = v
			break
		}
	}
	if target < 0 {
		t.Fatal("no pass below the current one changes the table on the held-out set")
	}
	from := c.hist.xOf(oldPass)
	to := c.hist.xOf(target)
	mid := (from + to) / 2
	c.hist.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(mid, 100)}, Dragged: fyne.NewDelta(mid-from, 0)})
	c.hist.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(to, 100)}, Dragged: fyne.NewDelta(to-mid, 0)})
	c.hist.DragEnd()
	if c.thresholds.Pass != target || c.hist.pass != target || c.passSlider.Value != target || c.passValue.Text != fmt.Sprintf("%.2f", target) {
		t.Fatalf("after dragging to %.2f: view %.2f, line %.2f, slider %.2f, label %q", target,
			c.thresholds.Pass, c.hist.pass, c.passSlider.Value, c.passValue.Text)
	}
	if after := assertTable(t, c, conf, def); after.Table == before.Table {
		t.Error("the table did not change with the pass line")
	}

	// Dragging the reject line far left stops it at the station's lowest
	// reject (0.50, above the pass line), line and slider alike.
	c.hist.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(c.hist.xOf(0.02), 50)},
		Dragged: fyne.NewDelta(c.hist.xOf(0.02)-c.hist.xOf(c.thresholds.Reject), 0)})
	c.hist.DragEnd()
	if c.thresholds.Reject != rejectMin || c.hist.reject != rejectMin || c.rejectSlider.Value != rejectMin || c.thresholds.Pass != target {
		t.Errorf("reject dragged to 0.02: %+v (line %.2f, slider %.2f)", c.thresholds, c.hist.reject, c.rejectSlider.Value)
	}
	assertTable(t, c, conf, def)
	// The sliders stop at the station's ranges.
	if c.passSlider.Min != passMin || c.passSlider.Max != passMax || c.rejectSlider.Min != rejectMin || c.rejectSlider.Max != rejectMax {
		t.Errorf("slider ranges %.2f–%.2f, %.2f–%.2f", c.passSlider.Min, c.passSlider.Max, c.rejectSlider.Min, c.rejectSlider.Max)
	}

	// The sliders move the lines.
	c.rejectSlider.SetValue(0.7)
	if c.hist.reject != 0.7 || c.thresholds.Reject != 0.7 {
		t.Errorf("reject slider: line %.2f, view %.2f", c.hist.reject, c.thresholds.Reject)
	}
	assertTable(t, c, conf, def)

	// Suggest moves the lines to evaluate.Suggest's pair among those the
	// station can hold.
	var within []evaluate.StripOutcome
	for _, o := range evaluate.Sweep(conf, def) {
		if o.Thresholds.Pass >= passMin && o.Thresholds.Pass <= passMax && o.Thresholds.Reject >= rejectMin && o.Thresholds.Reject <= rejectMax {
			within = append(within, o)
		}
	}
	for _, maxMissed := range []int{0, 3} {
		c.maxMissed.SetText(strconv.Itoa(maxMissed))
		test.Tap(c.suggestBtn)
		best, ok := evaluate.Suggest(within, maxMissed)
		if !ok {
			t.Fatalf("evaluate.Suggest found nothing for %d", maxMissed)
		}
		if c.thresholds != best.Thresholds || c.hist.pass != best.Thresholds.Pass || c.hist.reject != best.Thresholds.Reject {
			t.Errorf("max missed %d: lines at %.2f/%.2f, evaluate.Suggest says %+v", maxMissed, c.hist.pass, c.hist.reject, best.Thresholds)
		}
		if want := fmt.Sprintf("pass %.2f, reject %.2f", best.Thresholds.Pass, best.Thresholds.Reject); !strings.Contains(c.suggestion.Text, want) {
			t.Errorf("suggestion text %q lacks %q", c.suggestion.Text, want)
		}
		// the held-out set is 60 strips: the suggestion says it is too few
		for _, caveat := range evaluate.Caveats(best) {
			if !strings.Contains(c.suggestion.Text, "Caution: "+caveat) {
				t.Errorf("suggestion text %q lacks the caveat %q", c.suggestion.Text, caveat)
			}
		}
		if !strings.Contains(c.suggestion.Text, "only 60 labelled strips back it") {
			t.Errorf("suggestion on 60 strips does not warn: %q", c.suggestion.Text)
		}
		if o := assertTable(t, c, conf, def); o.Missed > maxMissed {
			t.Errorf("suggested pair misses %d > %d", o.Missed, maxMissed)
		}

		// A better pair outside the station's ranges is named, not offered.
		free, _ := evaluate.Suggest(evaluate.Sweep(conf, def), maxMissed)
		if outside := strings.Contains(c.suggestion.Text, "the station cannot use it"); outside != (free.Thresholds != best.Thresholds) {
			t.Errorf("max missed %d: unconstrained %+v, in range %+v, text %q", maxMissed, free.Thresholds, best.Thresholds, c.suggestion.Text)
		}
	}
}

func TestCalibrateSavePlots(t *testing.T) {
	h := newHarness(t, Options{})
	c := openCalibrate(t, h)
	loadHeldout(t, h, c)
	c.setPair(verdict.Thresholds{Pass: 0.3, Reject: 0.6})
	dir := t.TempDir()
	c.savePlots(dir)
	h.waitIdle()
	for _, name := range []string{"histogram.png", "roc.png", "sweep.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s not written (messages %q)", name, c.messages)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}
	if !strings.Contains(c.summary.Text, "Saved histogram.png, roc.png, sweep.png") || c.plotsBtn.Disabled() {
		t.Errorf("summary %q, button disabled %v", c.summary.Text, c.plotsBtn.Disabled())
	}
	if c.report.Thresholds == c.thresholds {
		t.Error("saving the plots changed the report's own thresholds")
	}
}

func TestCalibrateApplyNeedsUnlockAndIsRecorded(t *testing.T) {
	h, store := newStation(t)
	c := openCalibrate(t, h)
	loadHeldout(t, h, c)
	old := h.ins.settings.thresholds
	want := verdict.Thresholds{Pass: 0.30, Reject: 0.70}
	c.passSlider.SetValue(want.Pass)
	c.rejectSlider.SetValue(want.Reject)
	if c.thresholds != want {
		t.Fatalf("sliders set %+v", c.thresholds)
	}

	// Locked, no supervisor on the station yet: refused, whoever signs in.
	key := c.win.Canvas().OnTypedKey()
	test.Tap(c.applyBtn)
	name, ok := c.win.Canvas().Focused().(*dialogEntry)
	if !ok {
		t.Fatalf("supervisor box not focused: %T", c.win.Canvas().Focused())
	}
	test.Type(name, "mallory")
	name.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitIdle()
	if h.ins.settings.thresholds != old || !h.ins.isLocked() {
		t.Fatalf("locked station took %+v", h.ins.settings.thresholds)
	}
	if n := len(c.messages); n == 0 || !strings.Contains(c.messages[n-1], "users add NAME --role admin") {
		t.Errorf("messages %q", c.messages)
	}
	// Esc closes the message (the calibrate window's own dialogs take
	// Enter and Esc too).
	if c.keys.top() == nil {
		t.Fatal("the message is not a keyed dialog")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.keys.top() != nil {
		t.Fatal("Esc did not close the message")
	}

	h.unlockAsSupervisor()
	h.ins.settings.Lock()

	// Locked: a supervisor is asked to sign in; a wrong password changes
	// nothing.
	test.Tap(c.applyBtn)
	if n := len(c.messages); !strings.Contains(c.messages[n-1], "supervisor asked") {
		t.Errorf("messages %q", c.messages)
	}
	c.unlockAndApply(supervisorName, "wrong-pw", want)
	h.waitIdle()
	if h.ins.settings.thresholds != old || !h.ins.isLocked() {
		t.Fatalf("wrong password: thresholds %+v, locked %v", h.ins.settings.thresholds, h.ins.isLocked())
	}
	if n := len(c.messages); !strings.Contains(c.messages[n-1], "wrong password") {
		t.Errorf("messages %q", c.messages)
	}

	// The supervisor's password unlocks and applies, through the sliders'
	// path.
	c.unlockAndApply(supervisorName, supervisorPassword, want)
	h.waitIdle()
	if h.ins.settings.thresholds != want || h.ins.isLocked() {
		t.Fatalf("after the supervisor's sign-in: thresholds %+v, locked %v", h.ins.settings.thresholds, h.ins.isLocked())
	}
	if round2(h.ins.settings.passSlider.Value) != want.Pass || round2(h.ins.settings.rejectSlider.Value) != want.Reject || h.ins.settings.passValue.Text != "0.30" || h.ins.settings.rejectValue.Text != "0.70" {
		t.Errorf("main sliders %.2f/%.2f, labels %q/%q", h.ins.settings.passSlider.Value, h.ins.settings.rejectSlider.Value, h.ins.settings.passValue.Text, h.ins.settings.rejectValue.Text)
	}
	if !strings.Contains(c.station.Text, "Applied") || !strings.Contains(c.station.Text, "audit trail") {
		t.Errorf("station text %q", c.station.Text)
	}
	changes, err := store.SettingChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ch := range changes {
		if strings.HasSuffix(ch.Setting, "_threshold") {
			got[ch.Setting] = ch.OldValue + "→" + ch.NewValue
		}
	}
	if got["pass_threshold"] != fmt.Sprintf("%.2f→0.30", old.Pass) || got["reject_threshold"] != fmt.Sprintf("%.2f→0.70", old.Reject) {
		t.Errorf("recorded changes %v", got)
	}

	// Unlocked: Apply goes straight through.
	c.passSlider.SetValue(0.25)
	test.Tap(c.applyBtn)
	h.waitIdle()
	if h.ins.settings.thresholds.Pass != 0.25 {
		t.Errorf("unlocked Apply: %+v", h.ins.settings.thresholds)
	}

	// The sliders cannot take a pair the station cannot hold.
	c.passSlider.SetValue(0.05)
	if c.thresholds.Pass != passMin {
		t.Errorf("pass slider set to 0.05 gave %+v", c.thresholds)
	}
	// Apply with the sign-in asked for again, typed in and sent with
	// Enter.
	h.ins.settings.Lock()
	test.Tap(c.applyBtn)
	name, ok = c.win.Canvas().Focused().(*dialogEntry)
	if !ok {
		t.Fatalf("supervisor box not focused: %T", c.win.Canvas().Focused())
	}
	test.Type(name, supervisorName)
	c.win.Canvas().FocusNext()
	password, ok := c.win.Canvas().Focused().(*dialogEntry)
	if !ok || !password.Password {
		t.Fatalf("password box not next: %T", c.win.Canvas().Focused())
	}
	test.Type(password, supervisorPassword)
	password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitIdle()
	if h.ins.settings.thresholds.Pass != passMin {
		t.Errorf("Enter in the sign-in: %+v (messages %q)", h.ins.settings.thresholds, c.messages)
	}
}

func TestCalibrateBadLabelsShowLines(t *testing.T) {
	h := newHarness(t, Options{})
	c := openCalibrate(t, h)
	dir := t.TempDir()
	images := filepath.Join(dir, "train_images")
	if err := os.Mkdir(images, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, images, "a.png", stripPass())
	csv := "ImageId,ClassId,EncodedPixels\n" +
		"a.png,1,1 10 300 5\n" +
		"a.png,2,50 x\n" +
		"a.png,3,409590 20\n"
	if err := os.WriteFile(filepath.Join(dir, "train.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	c.loadFolder(dir)
	h.waitIdle()
	if c.report != nil {
		t.Fatal("a set with bad labels was scored")
	}
	if len(c.messages) != 1 {
		t.Fatalf("messages %q", c.messages)
	}
	msg := c.messages[0]
	for _, want := range []string{"train.csv", "line 3", "line 4"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "line 2") {
		t.Errorf("the good line is reported: %s", msg)
	}
	if h.model.calls.Load() != 0 {
		t.Errorf("%d strips scored despite bad labels", h.model.calls.Load())
	}

	// A folder without the layout says what is missing.
	c.loadFolder(images)
	if n := len(c.messages); !strings.Contains(c.messages[n-1], "lacks train_images/ and train.csv") {
		t.Errorf("messages %q", c.messages)
	}
}

func TestCalibrateCancel(t *testing.T) {
	h := newHarness(t, Options{})
	c := openCalibrate(t, h)
	c.loadFolder(heldoutDir)
	if c.cancelBtn.Disabled() || c.progressBox.Hidden || !c.openBtn.Disabled() {
		t.Error("scoring shows no progress or cancel")
	}
	test.Tap(c.cancelBtn)
	h.waitIdle()
	if c.report != nil || c.cancel != nil || !c.progressBox.Hidden {
		t.Errorf("after cancel: report %v, running %v", c.report != nil, c.cancel != nil)
	}
	if n := h.model.calls.Load(); n >= 60 {
		t.Errorf("all %d strips scored after cancel", n)
	}
}

// histPixels captures the window and returns the histogram's plot area.
func histPixels(t *testing.T, c *calibrateView) (image.Image, image.Rectangle, float32) {
	t.Helper()
	img := c.win.Canvas().Capture()
	scale := c.win.Canvas().Scale()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.hist)
	x, y, w, ht := plotRect(c.hist.Size())
	r := image.Rect(int((pos.X+x)*scale), int((pos.Y+y)*scale), int((pos.X+x+w)*scale), int((pos.Y+y+ht)*scale))
	if !r.In(img.Bounds()) || r.Dx() < 100 || r.Dy() < 50 {
		t.Fatalf("plot area %v in capture %v", r, img.Bounds())
	}
	return img, r, scale
}

func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return abs(int(x>>8)-int(y>>8)) <= tol }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

// lineNear says whether colour c is within a few pixels of x on row y: the
// test driver's object positions leave out the window's own padding.
func lineNear(img image.Image, x, y int, c color.Color) bool {
	for dx := -4; dx <= 4; dx++ {
		if near(img.At(x+dx, y), c, 24) {
			return true
		}
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestCalibrateHistogramPixels(t *testing.T) {
	h := newHarness(t, Options{})
	c := openCalibrate(t, h)
	loadHeldout(t, h, c)
	c.setPair(verdict.Thresholds{Pass: 0.25, Reject: 0.75})
	img, r, scale := histPixels(t, c)

	// Count bar pixels away from the lines, which are drawn in the zone
	// colours too.
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.hist)
	lineX := func(v float64) int { return int((pos.X + c.hist.xOf(v)) * scale) }
	green, red := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if abs(x-lineX(0.25)) < 12 || abs(x-lineX(0.75)) < 12 {
				continue
			}
			cr, cg, cb, _ := img.At(x, y).RGBA()
			R, G, B := int(cr>>8), int(cg>>8), int(cb>>8)
			if G > R+40 && G > B+30 {
				green++
			}
			if R > G+60 && R > B+60 {
				red++
			}
		}
	}
	if green < 50 || red < 50 {
		t.Errorf("histogram has %d green and %d red pixels", green, red)
	}
	for _, l := range []struct {
		v float64
		c color.NRGBA
	}{{0.25, histPassLine}, {0.75, histRejectLine}} {
		x := lineX(l.v)
		y := (r.Min.Y + r.Max.Y) / 2
		if !lineNear(img, x, y, l.c) {
			t.Errorf("line %.2f: no %v near x=%d", l.v, l.c, x)
		}
		// Away from the line, no line colour.
		if got := img.At(x+int(12*scale), y); near(got, l.c, 24) {
			t.Errorf("line %.2f is wider than it should be at x=%d", l.v, x+12)
		}
	}

	// Dragging redraws the line where it went.
	from := c.hist.xOf(0.25)
	to := c.hist.xOf(0.4)
	c.hist.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(to, 80)}, Dragged: fyne.NewDelta(to-from, 0)})
	c.hist.DragEnd()
	img, r, scale = histPixels(t, c)
	if x := int((pos.X + c.hist.xOf(0.4)) * scale); !lineNear(img, x, (r.Min.Y+r.Max.Y)/2, histPassLine) {
		t.Errorf("after the drag the pass line is not at 0.40 (x=%d)", x)
	}
	if dir := os.Getenv("CALIBRATE_SHOTS_DIR"); dir != "" {
		saveShot(t, c, filepath.Join(dir, "calibrate-test-theme.png"))
	}
}

// TestCalibrateShots saves the window in the real light and dark themes
// (software painter) when CALIBRATE_SHOTS_DIR is set.
func TestCalibrateShots(t *testing.T) {
	dir := os.Getenv("CALIBRATE_SHOTS_DIR")
	if dir == "" {
		t.Skip("CALIBRATE_SHOTS_DIR not set")
	}
	h, _ := newStation(t)
	for _, variant := range []struct {
		name  string
		theme fyne.Theme
	}{{"light", fixedVariant{theme.DefaultTheme(), theme.VariantLight}}, {"dark", fixedVariant{theme.DefaultTheme(), theme.VariantDark}}} {
		h.app.Settings().SetTheme(variant.theme)
		c := openCalibrate(t, h)
		loadHeldout(t, h, c)
		c.maxMissed.SetText("2")
		test.Tap(c.suggestBtn)
		saveShot(t, c, filepath.Join(dir, "calibrate-"+variant.name+"-suggested.png"))
		test.Tap(c.applyBtn) // locked, no PIN yet
		saveShot(t, c, filepath.Join(dir, "calibrate-"+variant.name+"-locked.png"))
		c.win.Close()
		h.waitIdle()
	}

	// Bad labels: the refused lines in a dialog.
	bad := t.TempDir()
	if err := os.Mkdir(filepath.Join(bad, "train_images"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(bad, "train_images"), "a.png", stripPass())
	csv := "ImageId,ClassId,EncodedPixels\na.png,1,1 10 300 5\na.png,2,50 x\na.png,3,409590 20\nb.png,7\n"
	if err := os.WriteFile(filepath.Join(bad, "train.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	c := openCalibrate(t, h)
	c.loadFolder(bad)
	h.waitIdle()
	saveShot(t, c, filepath.Join(dir, "calibrate-bad-labels.png"))
}

func saveShot(t *testing.T, c *calibrateView, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, c.win.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// fixedVariant is a theme that always draws one variant, whatever the
// user's preference: for pictures of both.
type fixedVariant struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (f fixedVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return f.Theme.Color(n, f.variant)
}
