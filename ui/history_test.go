package ui

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"steelinspect/archive"
	"steelinspect/station"
)

// openHistory opens the History window on the whole trail.
func openHistory(t *testing.T, h *harness) *historyView {
	t.Helper()
	h.ins.showHistory()
	h.waitIdle()
	hv := h.ins.history
	if hv == nil {
		t.Fatal("History did not open")
	}
	hv.since.SetText("")
	hv.until.SetText("")
	hv.reload()
	h.waitIdle()
	return hv
}

// historyRow is the row of the inspection of the file named base.
func historyRow(t *testing.T, hv *historyView, base string) int {
	t.Helper()
	for k, r := range hv.rows {
		if filepath.Base(r.Path) == base {
			return k
		}
	}
	t.Fatalf("no History row for %s in %+v", base, hv.rows)
	return -1
}

// selectHistoryRow selects a row as a click does and waits for its strip.
func selectHistoryRow(h *harness, hv *historyView, row int) {
	hv.table.Select(widget.TableCellID{Row: row, Col: 1})
	h.waitIdle()
}

// brightRight is the thumbnail's mean grey level near its right end,
// where stripA is 255 and stripB 150.
func brightRight(img image.Image) int {
	b := img.Bounds()
	sum, n := 0, 0
	for y := b.Dy()/2 - 10; y < b.Dy()/2+10; y++ {
		for x := b.Max.X - 60; x < b.Max.X-20; x++ {
			sum += int(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			n++
		}
	}
	return sum / n
}

// TestHistoryRowShowsItsStripThumbnail: selecting a row shows that
// strip's thumbnail under the table, decoded off the UI goroutine from
// the file the trail recorded and reduced for display, with its sha256
// checked; Down selects the next row and its thumbnail follows.
func TestHistoryRowShowsItsStripThumbnail(t *testing.T) {
	h, _ := newStation(t)
	dir := t.TempDir()
	a := writePNG(t, dir, "a.png", stripA())
	b := writePNG(t, dir, "b.png", stripB())
	h.openPaths(a, b)
	hv := openHistory(t, h)
	if hv.thumb.Image != nil || !hv.openBtn.Disabled() {
		t.Fatal("a thumbnail or Open in the station before any row is selected")
	}

	selectHistoryRow(h, hv, historyRow(t, hv, "b.png"))
	s := hv.strip
	if s == nil || s.path != b || !s.ok || hv.thumb.Image == nil || hv.thumb.Image != s.image {
		t.Fatalf("b.png's row shows strip %+v, thumbnail set %v", s, hv.thumb.Image != nil)
	}
	if got := s.image.Bounds().Size(); got != image.Pt(thumbWidth, 192) {
		t.Errorf("thumbnail of a 1600×256 strip is %v, want it reduced to %dx192", got, thumbWidth)
	}
	if v := brightRight(s.image); v < 135 || v > 165 {
		t.Errorf("b.png's thumbnail is %d at its right end, want stripB's 150", v)
	}
	if !strings.Contains(hv.stripNote.Text, "sha256 matches the record") || hv.openBtn.Disabled() {
		t.Errorf("note %q, Open in the station disabled %v", hv.stripNote.Text, hv.openBtn.Disabled())
	}
	if !strings.Contains(hv.recordTitle.Text, "b.png: REVIEW") || !strings.Contains(hv.recordText.Text, "Model tiny-nchw 0.0.1") {
		t.Errorf("record beside the thumbnail: %q / %q", hv.recordTitle.Text, hv.recordText.Text)
	}

	// Down on the focused table selects the other row: a.png, and its strip.
	rowA := historyRow(t, hv, "a.png")
	key := fyne.KeyDown
	if rowA < hv.selected {
		key = fyne.KeyUp
	}
	hv.table.TypedKey(&fyne.KeyEvent{Name: key})
	h.waitIdle()
	if hv.selected != rowA || hv.strip == nil || hv.strip.path != a || brightRight(hv.thumb.Image) < 235 {
		t.Errorf("after %s: row %d (want %d), strip %+v", key, hv.selected, rowA, hv.strip)
	}
}

// TestHistorySaysWhenTheStripIsGone: a row whose file is gone, with no
// archived copy, says so in plain words and cannot be opened; a file
// changed since its inspection reads as not the one recorded.
func TestHistorySaysWhenTheStripIsGone(t *testing.T) {
	h, _ := newStation(t)
	dir := t.TempDir()
	a := writePNG(t, dir, "a.png", stripA())
	b := writePNG(t, dir, "b.png", stripB())
	h.openPaths(a, b)
	os.Remove(a)
	writePNG(t, dir, "b.png", stripPass()) // b.png is another strip now
	hv := openHistory(t, h)

	selectHistoryRow(h, hv, historyRow(t, hv, "a.png"))
	want := "The file is no longer at " + a + " and no archived copy was kept."
	if hv.strip == nil || hv.stripNote.Text != want || hv.thumb.Image != nil || !hv.openBtn.Disabled() {
		t.Errorf("a gone file: note %q (want %q), thumbnail %v, Open disabled %v",
			hv.stripNote.Text, want, hv.thumb.Image != nil, hv.openBtn.Disabled())
	}
	if hv.stripNote.Importance != widget.DangerImportance {
		t.Errorf("a gone file's note is not a warning: %v", hv.stripNote.Importance)
	}

	selectHistoryRow(h, hv, historyRow(t, hv, "b.png"))
	if hv.strip == nil || hv.strip.ok || !strings.Contains(hv.stripNote.Text, b+" no longer matches the record") || !hv.openBtn.Disabled() {
		t.Errorf("a changed file: %+v, note %q, Open disabled %v", hv.strip, hv.stripNote.Text, hv.openBtn.Disabled())
	}
}

// TestHistoryOpensTheRecordedInspectionInTheStation: Open in the
// station shows a row's strip in the main window as recorded (alice's
// REJECT over the automatic REVIEW), never as a new inspection: a strip
// the Processed list holds is selected; one it does not (its file gone
// since, after a restart) joins it from its archived copy. The trail has
// no more inspections after than before.
func TestHistoryOpensTheRecordedInspectionInTheStation(t *testing.T) {
	store := openStore(t)
	archDir := t.TempDir()
	arch, err := archive.New(archive.Policy{Dir: archDir})
	if err != nil {
		t.Fatal(err)
	}
	first := newHarness(t, Options{Station: station.FromParts(store, arch, nil)})
	first.ins.review.setOperator("alice")
	dir := t.TempDir()
	b := writePNG(t, dir, "b.png", stripB()) // REVIEW
	first.openPaths(b)
	first.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyR}) // alice rejects it
	first.waitIdle()
	first.openPaths(writePNG(t, dir, "c.png", stripPass()))
	before := len(history(t, store))

	hv := openHistory(t, first)
	selectHistoryRow(first, hv, historyRow(t, hv, "b.png"))
	bID := hv.rows[hv.selected].ID
	n := len(first.ins.processed.items)
	test.Tap(hv.openBtn)
	first.waitIdle()
	if cur := first.ins.currentItem(); cur == nil || cur.auditID != bID || len(first.ins.processed.items) != n {
		t.Fatalf("Open on a strip in the list: showing %+v, %d rows (were %d)", cur, len(first.ins.processed.items), n)
	}
	if first.ins.card.decision.Text != "REJECT" {
		t.Errorf("card %q, want alice's REJECT", first.ins.card.decision.Text)
	}
	first.ins.Close()

	// After a restart, with b.png gone from its folder, the shift's
	// restore leaves it out; History opens it from the archive.
	os.Remove(b)
	h := newHarness(t, Options{Station: station.FromParts(store, arch, nil)})
	if h.ins.processed.indexOfRecord(bID) >= 0 {
		t.Fatal("b.png restored although its file is gone")
	}
	hv = openHistory(t, h)
	selectHistoryRow(h, hv, historyRow(t, hv, "b.png"))
	if hv.strip == nil || !hv.strip.ok || !strings.HasPrefix(hv.strip.path, archDir) ||
		!strings.Contains(hv.stripNote.Text, "The file is no longer at "+b+". Showing the archived copy") {
		t.Fatalf("b.png's strip: %+v", hv.strip)
	}
	n = len(h.ins.processed.items)
	hv.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter opens it too
	h.waitIdle()
	cur := h.ins.currentItem()
	if cur == nil || cur.auditID != bID || cur.path != hv.strip.path || len(h.ins.processed.items) != n+1 {
		t.Fatalf("Open added %d rows and shows %+v", len(h.ins.processed.items)-n, cur)
	}
	w := h.ins.card
	if w.decision.Text != "REJECT" || !strings.Contains(w.level.Text, "Automatic decision: REVIEW, overridden by alice") {
		t.Errorf("card %q / %q, want the recorded REVIEW and alice's REJECT over it", w.decision.Text, w.level.Text)
	}
	if got := len(history(t, store)); got != before {
		t.Errorf("opening from History recorded %d new inspections", got-before)
	}
	hv.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // again: the same row, selected
	h.waitIdle()
	if len(h.ins.processed.items) != n+1 || h.ins.currentItem() != cur {
		t.Errorf("opening it again added a row (%d) or showed another strip", len(h.ins.processed.items)-n)
	}
}

// shownInCell is what a History cell's label (cut with an ellipsis)
// shows of text at width.
func shownInCell(text string, width float32) string {
	l := widget.NewLabel(text)
	l.Truncation = fyne.TextTruncateEllipsis
	l.Resize(fyne.NewSize(width, l.MinSize().Height))
	rt := test.WidgetRenderer(l).Objects()[0].(*widget.RichText)
	var shown []string
	for _, o := range test.WidgetRenderer(rt).Objects() {
		if c, ok := o.(*canvas.Text); ok {
			shown = append(shown, c.Text)
		}
	}
	return strings.Join(shown, "")
}

// TestHistoryColumnsAndEsc: at 1280×720 the Source and Model columns
// are wide enough for their text and header (Source was 65 px, "window"
// cut to "wi…"); Esc closes History once a row was clicked (the table
// took the focus and kept Esc to itself), and from a filter box.
func TestHistoryColumnsAndEsc(t *testing.T) {
	h, _ := newStation(t)
	h.ins.Window().Resize(fyne.NewSize(1280, 720))
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	hv := openHistory(t, h)
	for _, col := range []int{historySourceColumn, historyModelColumn} {
		for k := range hv.rows {
			text, _ := historyCell(&hv.rows[k], col)
			if got := shownInCell(text, hv.widths[col]); got != text {
				t.Errorf("%s column %.0f px wide shows %q for %q", historyColumns[col].title, hv.widths[col], got, text)
			}
		}
	}

	typeKey := func(c fyne.Canvas, name fyne.KeyName) {
		if f := c.Focused(); f != nil {
			f.TypedKey(&fyne.KeyEvent{Name: name})
		} else {
			c.OnTypedKey()(&fyne.KeyEvent{Name: name})
		}
	}
	c := hv.win.Canvas()
	c.Focus(hv.table)
	selectHistoryRow(h, hv, 0)
	typeKey(c, fyne.KeyEscape)
	h.waitIdle()
	if h.ins.history != nil {
		t.Error("Esc on the table did not close History")
	}
	hv = openHistory(t, h)
	hv.win.Canvas().Focus(hv.operator)
	typeKey(hv.win.Canvas(), fyne.KeyEscape)
	h.waitIdle()
	if h.ins.history != nil {
		t.Error("Esc in the operator box did not close History")
	}
}
