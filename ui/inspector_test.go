package ui

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/internal/testimg"
	"steelinspect/verdict"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
)

// Strip A: background 60 (p≈0.235), columns from 1344 white. Patch 11
// (1344..1600) is 1.0, patch 10 (1280..1536) ≈0.81, patch 9 (1152..1408)
// ≈0.43, the other nine ≈0.235: 9 pass, 1 review, 2 reject at 0.40/0.65.
func stripA() *image.Gray { return bandStrip(60, 255, 1344) }

// Strip B: same layout at value 150: patch 11 ≈0.588 (REVIEW at 0.65),
// patch 10 = 0.5, patch 9 ≈0.32.
func stripB() *image.Gray { return bandStrip(60, 150, 1344) }

func TestLoadShowsResultCard(t *testing.T) {
	h := newHarness(t, Options{})
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "a.png", stripA()))

	w := h.ins.card
	if got := w.decision.Text; got != "REJECT" {
		t.Errorf("decision %q, want REJECT", got)
	}
	if got := w.confidence.Text; got != "Defect score 100.0 %" {
		t.Errorf("confidence %q", got)
	}
	if got := w.level.Text; got != "High confidence" {
		t.Errorf("level %q", got)
	}
	if got := w.action.Text; got != verdict.ActionReject {
		t.Errorf("action %q", got)
	}
	want := [3]string{"9", "1", "2"}
	for z := range 3 {
		if got := w.zoneCount[z].Text; got != want[z] {
			t.Errorf("zone %d count %q, want %q", z, got, want[z])
		}
	}
	if got := w.zonePercent[0].Text; strings.TrimSpace(got) != "75.0 %" {
		t.Errorf("auto-pass percent %q", got)
	}
	if got := w.patchCount.Text; got != "12" {
		t.Errorf("patches %q", got)
	}
	if got := w.maxProb.Text; got != "100.0 %" {
		t.Errorf("max prob %q", got)
	}
	if !strings.Contains(h.ins.w.status.Text, "a.png") || !strings.Contains(h.ins.w.status.Text, "inference") {
		t.Errorf("status %q lacks file name or timings", h.ins.w.status.Text)
	}
	if !strings.Contains(h.ins.settings.logic[2].rng.Text, "0.65") {
		t.Errorf("logic table red row %q", h.ins.settings.logic[2].rng.Text)
	}
}

func TestSliderRedecidesWithoutInference(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "b.png", stripB()))
	w := h.ins.card
	if w.decision.Text != "REVIEW" || w.confidence.Text != "Defect score 58.8 %" {
		t.Fatalf("before: %q %q, want REVIEW 58.8 %%", w.decision.Text, w.confidence.Text)
	}
	runs := h.model.calls.Load()
	before := overlayAt(t, h, 1472, 128)

	h.ins.settings.rejectSlider.SetValue(0.55) // fires OnChanged like a drag
	if w.decision.Text != "REJECT" {
		t.Errorf("after reject=0.55: %q, want REJECT", w.decision.Text)
	}
	if got := h.ins.settings.rejectValue.Text; got != "0.55" {
		t.Errorf("reject value label %q", got)
	}
	if got := h.ins.settings.logic[2].rng.Text; got != "p > 0.55" {
		t.Errorf("logic table %q", got)
	}
	after := overlayAt(t, h, 1472, 128)
	if !isOrange(before) || !isRed(after) {
		t.Errorf("overlay at patch 11: before %v (want orange), after %v (want red)", before, after)
	}

	h.ins.settings.passSlider.SetValue(0.30)
	h.ins.settings.rejectSlider.SetValue(0.60)
	if w.decision.Text != "REVIEW" {
		t.Errorf("after reject=0.60: %q, want REVIEW", w.decision.Text)
	}
	// Patch 9 (≈0.32) is now above pass 0.30: review.
	if got := w.zoneCount[1].Text; got != "3" {
		t.Errorf("review count %q, want 3 (patches 9, 10, 11)", got)
	}
	if n := h.model.calls.Load(); n != runs {
		t.Errorf("moving sliders ran inference %d more times", n-runs)
	}
	p := h.app.Preferences()
	if got := p.Float(prefReject); got != 0.60 {
		t.Errorf("saved reject %v, want 0.60", got)
	}
	if got := p.Float(prefPass); got != 0.30 {
		t.Errorf("saved pass %v, want 0.30", got)
	}
}

func TestThresholdsCannotCollide(t *testing.T) {
	h := newHarness(t, Options{})
	h.ins.settings.rejectSlider.SetValue(0.50)
	h.ins.settings.passSlider.SetValue(0.50)
	th := h.ins.settings.thresholds
	if th.Pass >= th.Reject {
		t.Fatalf("thresholds %+v not ordered", th)
	}
	if th.Pass != 0.50 || th.Reject != 0.51 {
		t.Errorf("moving pass to 0.50 gave %+v, want pass 0.50 reject 0.51", th)
	}
	if h.ins.settings.rejectSlider.Value != 0.51 || !h.ins.settings.thresholdMsg.Visible() || !strings.Contains(h.ins.settings.thresholdMsg.Text, "below") {
		t.Errorf("slider %v, message %q (visible %v)", h.ins.settings.rejectSlider.Value, h.ins.settings.thresholdMsg.Text, h.ins.settings.thresholdMsg.Visible())
	}
	h.ins.settings.rejectSlider.SetValue(0.50)
	th = h.ins.settings.thresholds
	if th.Pass != 0.49 || th.Reject != 0.50 {
		t.Errorf("moving reject to 0.50 gave %+v, want pass 0.49 reject 0.50", th)
	}
	h.ins.settings.rejectSlider.SetValue(0.70)
	if h.ins.settings.thresholdMsg.Visible() {
		t.Errorf("message still shown: %q", h.ins.settings.thresholdMsg.Text)
	}
}

func TestThresholdsPersist(t *testing.T) {
	h := newHarness(t, Options{})
	h.ins.settings.passSlider.SetValue(0.33)
	h.ins.settings.rejectSlider.SetValue(0.72)
	// A second window on the same app (same preferences) starts there.
	other := newInspector(h.app, Options{Model: openCounting(t, tinyModel)}, func(f func()) { h.ui <- f })
	defer other.Close()
	if got := other.settings.thresholds; got.Pass != 0.33 || got.Reject != 0.72 {
		t.Errorf("restored %+v, want 0.33/0.72", got)
	}
	if other.settings.passValue.Text != "0.33" || other.settings.rejectSlider.Value != 0.72 {
		t.Errorf("sliders show %q / %v", other.settings.passValue.Text, other.settings.rejectSlider.Value)
	}
}

func TestBadInputKeepsPreviousResult(t *testing.T) {
	h := newHarness(t, Options{})
	dir := t.TempDir()
	good := writePNG(t, dir, "good.png", stripA())
	h.openPaths(good)

	jpg, err := os.ReadFile("../testdata/images/cmyk.jpg")
	if err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.jpg")
	if err := os.WriteFile(corrupt, jpg[:len(jpg)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "strips")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.png")
	if err := os.WriteFile(huge, testimg.PNGHeaderOnly(20000, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := h.model.calls.Load()
	h.openPaths(corrupt, pdf, folder, huge)

	if len(h.ins.errorsShown) != 1 {
		t.Fatalf("errors shown: %q, want one dialog", h.ins.errorsShown)
	}
	msg := h.ins.errorsShown[0]
	for _, want := range []string{"corrupt.jpg: corrupt jpeg data", "report.pdf: not a supported image",
		"strips: is a folder", "huge.png: image is 20000×20000"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if h.ins.Window().Canvas().Overlays().Top() == nil {
		t.Error("no error dialog on the canvas")
	}
	// The folder holds no images: nothing of it is analysed.
	if n := h.model.calls.Load() - runs; n != 3 {
		t.Errorf("%d analyses for 3 bad files", n)
	}
	w := h.ins.card
	if w.decision.Text != "REJECT" || len(h.ins.processed.items) != 1 || h.ins.current != 0 {
		t.Errorf("previous result lost: decision %q, %d items, current %d", w.decision.Text, len(h.ins.processed.items), h.ins.current)
	}
	if !strings.Contains(h.ins.w.status.Text, "good.png") {
		t.Errorf("status %q", h.ins.w.status.Text)
	}
	// Still working: a good file after the bad ones loads.
	h.openPaths(writePNG(t, dir, "b.png", stripB()))
	if w.decision.Text != "REVIEW" || len(h.ins.processed.items) != 2 {
		t.Errorf("after bad input, new load gave %q with %d items", w.decision.Text, len(h.ins.processed.items))
	}
}

func TestCanvasColoursPatches(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	c := h.ins.Window().Canvas()
	img := c.Capture()

	at := func(x, y int) color.NRGBA { return canvasAt(t, h, img, x, y) }
	// Patch 0 is dark and clean: green tint. Patch 11 is white: red tint.
	// Patch 9's own area (1152..1280 is covered by 8 and 9): orange.
	if c := at(64, 128); !(int(c.G) > int(c.R)+15 && int(c.G) > int(c.B)+15) {
		t.Errorf("clean patch 0 shows %v, want green", c)
	}
	if c := at(1472, 128); !isRed(c) {
		t.Errorf("bright patch 11 shows %v, want red", c)
	}
	if c := at(1200, 128); !isOrange(c) {
		t.Errorf("review patch 9 shows %v, want orange", c)
	}

	// Hiding the overlay shows the bare strip.
	h.ins.strip.showOverlay.SetChecked(false)
	img = c.Capture()
	if c := at(1472, 128); c.R < 240 || c.G < 240 || c.B < 240 {
		t.Errorf("overlay hidden: patch 11 shows %v, want white", c)
	}
}

func TestHoverDescribesPatch(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	v := h.ins.strip.view
	pos, sz := v.imageRect(v.Size())
	s := sz.Width / 1600
	v.MouseMoved(&desktopMouse(pos.X+1472*s, pos.Y+128*s).MouseEvent)
	if got := h.ins.strip.caption.Text; !strings.Contains(got, "Patch #11") || !strings.Contains(got, "1.000") {
		t.Errorf("caption %q", got)
	}
	if !v.highlight.Visible() {
		t.Error("hovered patch not highlighted")
	}
	v.MouseOut()
	if strings.Contains(h.ins.strip.caption.Text, "Patch #") || v.highlight.Visible() {
		t.Errorf("after mouse out: %q", h.ins.strip.caption.Text)
	}
}

func TestPatchTableSorts(t *testing.T) {
	h := newHarness(t, Options{})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	if got := h.ins.strip.tableOrder[:3]; fmt.Sprint(got) != "[0 1 2]" {
		t.Errorf("default order %v", got)
	}
	h.ins.strip.sortTable(colProbability)
	if got := h.ins.strip.tableOrder[:3]; fmt.Sprint(got) != "[11 10 9]" {
		t.Errorf("by probability %v, want [11 10 9]", got)
	}
	h.ins.strip.sortTable(colProbability)
	if got := h.ins.strip.tableOrder[11]; got != 11 {
		t.Errorf("ascending: last row is patch %d, want 11", got)
	}
	cell := func(row, col int) string {
		l := newCellLabel()
		h.ins.strip.updatePatchCell(tableCell(row, col), l)
		return l.Text
	}
	h.ins.strip.setSort(sortByProbability)
	if got := cell(0, colProbability); got != "1.000" {
		t.Errorf("top probability cell %q", got)
	}
	if got := cell(0, colZone); got != "auto_reject" {
		t.Errorf("top zone cell %q", got)
	}
	if got := cell(0, colX); got != "1344" {
		t.Errorf("top x cell %q", got)
	}
}

func TestBrowseWithKeys(t *testing.T) {
	h := newHarness(t, Options{})
	dir := t.TempDir()
	// Dropped files take the same path as the command line and picker.
	h.ins.openURIs([]fyne.URI{
		storage.NewFileURI(writePNG(t, dir, "a.png", stripA())),
		storage.NewFileURI(writePNG(t, dir, "b.png", stripB())),
	})
	h.waitIdle()
	if len(h.ins.processed.items) != 2 || h.ins.current != 0 {
		t.Fatalf("%d items, current %d", len(h.ins.processed.items), h.ins.current)
	}
	runs := h.model.calls.Load()
	key := h.ins.Window().Canvas().OnTypedKey()
	key(&fyne.KeyEvent{Name: fyne.KeyRight})
	h.waitIdle()
	if h.ins.current != 1 || h.ins.card.decision.Text != "REVIEW" {
		t.Errorf("after Right: current %d, %q", h.ins.current, h.ins.card.decision.Text)
	}
	key(&fyne.KeyEvent{Name: fyne.KeyPageUp})
	h.waitIdle()
	if h.ins.current != 0 || h.ins.card.decision.Text != "REJECT" {
		t.Errorf("after PageUp: current %d, %q", h.ins.current, h.ins.card.decision.Text)
	}
	if n := h.model.calls.Load(); n != runs {
		t.Errorf("browsing ran inference %d times", n-runs)
	}
	if got := h.ins.w.position.Text; got != "1 / 2" {
		t.Errorf("position %q", got)
	}
}

func TestOpenModel(t *testing.T) {
	var next *countingAnalyzer
	opener := func(path string) (Analyzer, error) {
		if strings.HasSuffix(path, ".txt") {
			return nil, fmt.Errorf("expected a .onnx file or its .manifest.json")
		}
		next = openCounting(t, path)
		return next, nil
	}
	h := newHarness(t, Options{OpenModel: opener})
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "a.png", stripA()), writePNG(t, dir, "b.png", stripB()))
	first := h.model

	h.ins.openModel("notes.txt")
	h.waitIdle()
	if len(h.ins.errorsShown) != 1 || !strings.Contains(h.ins.errorsShown[0], "notes.txt") {
		t.Fatalf("refusal not shown: %q", h.ins.errorsShown)
	}
	if first.closed.Load() != 0 || h.ins.models.manifest.Name != "tiny-nchw" {
		t.Errorf("refused model replaced the current one")
	}

	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.waitIdle()
	if first.closed.Load() != 1 {
		t.Errorf("old model closed %d times, want 1", first.closed.Load())
	}
	if next == nil || next.calls.Load() != 1 {
		t.Fatalf("current image not re-analysed with the new model")
	}
	if got := h.ins.models.name.Text; !strings.HasPrefix(got, "tiny-nhwc") {
		t.Errorf("model label %q", got)
	}
	if h.ins.card.decision.Text != "REJECT" {
		t.Errorf("decision %q after model switch", h.ins.card.decision.Text)
	}
	if a := h.ins.currentAnalysis(); a == nil || a.Model.Name != "tiny-nhwc" {
		t.Errorf("analysis is not from the new model")
	}
	// The other image was scored by the old model: showing it scores it
	// again, once.
	h.ins.next()
	h.waitIdle()
	if next.calls.Load() != 2 || h.ins.current != 1 || h.ins.card.decision.Text != "REVIEW" {
		t.Errorf("stale image: %d runs, current %d, %q", next.calls.Load(), h.ins.current, h.ins.card.decision.Text)
	}
	if a := h.ins.currentAnalysis(); a == nil || a.Model.Name != "tiny-nhwc" {
		t.Errorf("second image not re-analysed with the new model")
	}
	h.ins.previous()
	h.waitIdle()
	if next.calls.Load() != 2 {
		t.Errorf("fresh image analysed again")
	}
}

func TestDemoStripsLoad(t *testing.T) {
	h := newHarness(t, Options{})
	menu := h.ins.demoMenu()
	if len(menu.Items) == 0 || menu.Items[0].Action == nil {
		t.Skip("no demo strips bundled")
	}
	menu.Items[0].Action()
	h.waitIdle()
	if len(h.ins.processed.items) != 1 || h.ins.processed.items[0].path != "" || h.ins.verdict == nil {
		t.Fatalf("demo strip not loaded: %d items", len(h.ins.processed.items))
	}
	if len(h.ins.errorsShown) > 0 {
		t.Errorf("errors: %q", h.ins.errorsShown)
	}
}

func TestComposeOverlay(t *testing.T) {
	patches := []verdict.Patch{
		{X: 0, Y: 0, W: 256, H: 256, Probability: 0.1},
		{X: 128, Y: 0, W: 256, H: 256, Probability: 0.9},
	}
	zones := []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoReject}
	img := composeOverlay(384, 256, patches, zones, 0.5)
	if b := img.Bounds(); b.Dx() != 384 || b.Dy() != 256 {
		t.Fatalf("overlay %v", b)
	}
	if c := img.NRGBAAt(64, 128); c != (color.NRGBA{0x2e, 0xa0, 0x43, 128}) {
		t.Errorf("patch 0 alone: %v, want translucent green", c)
	}
	// The overlap takes the higher zone.
	if c := img.NRGBAAt(192, 128); c != (color.NRGBA{0xe0, 0x2b, 0x2b, 128}) {
		t.Errorf("overlap: %v, want translucent red", c)
	}
	// The reject region has one opaque red contour on its edge, and no
	// line inside it (no picket of per-patch outlines).
	if c := img.NRGBAAt(128+1, 128); c.A != 0xff || c.R != 0xe0 {
		t.Errorf("outline: %v, want opaque red", c)
	}
	for x := 128 + 8; x < 384-8; x++ {
		if c := img.NRGBAAt(x, 128); c.A == 0xff {
			t.Fatalf("an outline inside the reject region at x=%d: %v", x, c)
		}
	}
	if got := patchAt(192, 10, patches, zones); got != 1 {
		t.Errorf("patchAt overlap = %d, want 1", got)
	}
	if got := patchAt(500, 10, patches, zones); got != -1 {
		t.Errorf("patchAt outside = %d", got)
	}
	// A huge image gets a bounded overlay.
	big := composeOverlay(16000, 2560, []verdict.Patch{{X: 0, Y: 0, W: 16000, H: 2560}}, zones[:1], 1)
	if b := big.Bounds(); b.Dx() != 1600 || b.Dy() != 256 {
		t.Errorf("big overlay %v", b)
	}
}

// overlayAt reads the composed overlay at an image point.
func overlayAt(t testing.TB, h *harness, x, y int) color.NRGBA {
	t.Helper()
	img, ok := h.ins.strip.view.overlay.Image.(*image.NRGBA)
	if !ok || img == nil {
		t.Fatal("no overlay image")
	}
	s := overlayScale(1600, 256)
	return img.NRGBAAt(int(float64(x)*s), int(float64(y)*s))
}

// canvasAt reads the captured canvas at an image point of the strip.
func canvasAt(t testing.TB, h *harness, img image.Image, x, y int) color.NRGBA {
	t.Helper()
	v := h.ins.strip.view
	origin := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
	pos, sz := v.imageRect(v.Size())
	scale := h.ins.Window().Canvas().Scale()
	px := (origin.X + pos.X + float32(x)/1600*sz.Width) * scale
	py := (origin.Y + pos.Y + float32(y)/256*sz.Height) * scale
	c := color.NRGBAModel.Convert(img.At(int(px), int(py))).(color.NRGBA)
	return c
}

func isRed(c color.NRGBA) bool {
	return int(c.R) > int(c.G)+40 && int(c.R) > int(c.B)+40
}

func isOrange(c color.NRGBA) bool {
	return int(c.R) > int(c.G)+20 && int(c.G) > int(c.B)+20
}

// TestModelSwitchAsksAboutThresholds: a model whose default thresholds
// differ from the station's asks whether to take them (Enter) or keep the
// station's (Esc); one with the same defaults asks nothing (issue 17).
func TestModelSwitchAsksAboutThresholds(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile("../testdata/models/tiny-nhwc.manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["default_thresholds"] = map[string]float64{"pass": 0.3, "reject": 0.8}
	out, _ := json.Marshal(m)
	other := filepath.Join(dir, "tiny-nhwc.manifest.json")
	if err := os.WriteFile(other, out, 0o644); err != nil {
		t.Fatal(err)
	}
	onnx, err := os.ReadFile("../testdata/models/tiny-nhwc.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny-nhwc.onnx"), onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{OpenModel: func(path string) (Analyzer, error) { return openCounting(t, path), nil }})
	key := h.ins.Window().Canvas().OnTypedKey()
	start := h.ins.settings.thresholds

	// Same defaults as the station: no question.
	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.waitIdle()
	if h.ins.topDialog() != nil {
		t.Fatal("asked about thresholds although the new model's defaults are the station's")
	}
	// Different defaults, Esc: the station keeps its thresholds.
	h.ins.openModel(other)
	h.waitIdle()
	if h.ins.topDialog() == nil || !strings.Contains(strings.Join(h.ins.messagesShown, "\n"), "recommends Auto-Pass 0.30 and Auto-Reject 0.80") {
		t.Fatalf("no question about the new model's thresholds: %q", h.ins.messagesShown)
	}
	key(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.ins.topDialog() != nil || h.ins.settings.thresholds != start {
		t.Fatalf("Esc: dialog open %v, thresholds %+v, want %+v", h.ins.topDialog() != nil, h.ins.settings.thresholds, start)
	}
	// Back and forth again, Enter: the model's defaults are taken.
	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.waitIdle()
	h.ins.openModel(other)
	h.waitIdle()
	key(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if want := (verdict.Thresholds{Pass: 0.3, Reject: 0.8}); h.ins.settings.thresholds != want || h.ins.work.currentThresholds() != want {
		t.Errorf("Enter: thresholds %+v (worker %+v), want %+v", h.ins.settings.thresholds, h.ins.work.currentThresholds(), want)
	}
}
