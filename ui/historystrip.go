package ui

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/disintegration/imaging"

	"steelinspect/audit"
	"steelinspect/inference"
)

// History shows the strip of the row selected: a thumbnail, where its
// file is and whether it is still the one recorded, and Open in the
// station, which shows the recorded inspection in the main window
// without recording anything.

// historyHost is what the History window uses of the station window: a
// secondary screen's needs, and a way to show a recorded inspection.
type historyHost interface {
	screenHost
	openRecorded(r audit.Inspection, path string)
}

// historyStrip is a row's strip as History found it.
type historyStrip struct {
	id    int64       // the inspection's audit id
	path  string      // the file shown and opened; "" when none is left
	image image.Image // reduced for the thumbnail; nil when none
	note  string      // where the file is and whether it is the one recorded
	// ok says path holds the recorded content (or the record has no
	// sha256 to check it against): only then can it be opened.
	ok bool
}

// thumbWidth and thumbHeight bound the thumbnail's image: a 1600×256
// strip is kept at 1200×192 (0.9 MB), not decoded at full size.
const thumbWidth, thumbHeight = 1200, 300

// thumbnail reduces a decoded strip for the History's thumbnail.
func thumbnail(img image.Image) image.Image {
	b := img.Bounds()
	if b.Dx() <= thumbWidth && b.Dy() <= thumbHeight {
		return img
	}
	return imaging.Fit(img, thumbWidth, thumbHeight, imaging.Box)
}

// stripCandidate is a file that may hold a recorded strip: where the
// trail last put it, or its archived copy.
type stripCandidate struct {
	path, sum string
	data      []byte
	err       error // reading it
}

func (c *stripCandidate) matches() bool {
	return c.err == nil && (c.sum == "" || inference.SHA256Hex(c.data) == c.sum)
}

// locateStrip finds a recorded strip's file, off the UI goroutine: the
// file where the trail last put it when it is still the one recorded,
// else the archived copy when that is; else whichever is still there,
// said not to match; else none, said plainly.
func locateStrip(in audit.Inspection) historyStrip {
	cands := []*stripCandidate{{path: in.CurrentPath(), sum: in.SHA256}}
	if in.ArchivePath != "" {
		cands = append(cands, &stripCandidate{path: in.ArchivePath, sum: in.ArchiveSHA256})
	}
	for _, c := range cands {
		c.data, c.err = readStripFile(c.path)
	}
	s := historyStrip{id: in.ID}
	cur := cands[0]
	for _, c := range cands {
		if c.matches() {
			s.ok = true
			s.note = fmt.Sprintf("%s\nsha256 matches the record.", c.path)
			if c != cur {
				s.note = fmt.Sprintf("%s. Showing the archived copy %s (its sha256 matches the record).", missing(cur), c.path)
			}
			s.decode(c)
			return s
		}
	}
	for _, c := range cands {
		if c.err == nil {
			s.note = fmt.Sprintf("%s no longer matches the record (its sha256 differs): it is not the strip that was inspected.", c.path)
			if c != cur {
				s.note = missing(cur) + ". The archived copy " + s.note
			}
			s.decode(c)
			return s
		}
	}
	switch {
	case in.ArchivePath == "":
		s.note = missing(cur) + " and no archived copy was kept."
	default:
		s.note = fmt.Sprintf("%s, and the archived copy %s is gone too.", missing(cur), in.ArchivePath)
	}
	return s
}

// missing says why the trail's own file could not be used.
func missing(c *stripCandidate) string {
	switch {
	case c.err == nil:
		return fmt.Sprintf("The file at %s no longer matches the record (its sha256 differs)", c.path)
	case errors.Is(c.err, os.ErrNotExist):
		return "The file is no longer at " + c.path
	}
	return fmt.Sprintf("The file at %s could not be read (%v)", c.path, c.err)
}

// decode makes the thumbnail of c's image; a file that does not decode
// is said so.
func (s *historyStrip) decode(c *stripCandidate) {
	s.path = c.path
	d, err := inference.DecodeImage(c.data, 0)
	if err != nil {
		s.note += fmt.Sprintf("\nIt could not be decoded: %v", err)
		s.ok = false
		return
	}
	s.image = thumbnail(d.Image)
}

// readStripFile reads a regular file of at most inference.MaxFileBytes.
func readStripFile(path string) ([]byte, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > inference.MaxFileBytes {
		return nil, fmt.Errorf("%s is above %d MB", path, inference.MaxFileBytes>>20)
	}
	return os.ReadFile(path)
}

// historyTable is the History's table with keys of its own: a row it
// has focus on takes Esc (close the window), Enter (open the strip in
// the station) and Up/Down (select the row above or below, its thumbnail
// following); a double click opens the strip too. A plain table kept Esc
// to itself once a row was clicked.
type historyTable struct {
	widget.Table
	onKey       func(ev *fyne.KeyEvent) bool
	onDoubleTap func()
}

func newHistoryTable(length func() (int, int), create func() fyne.CanvasObject, update func(widget.TableCellID, fyne.CanvasObject)) *historyTable {
	t := &historyTable{}
	t.Length, t.CreateCell, t.UpdateCell = length, create, update
	t.ShowHeaderRow = true
	t.ExtendBaseWidget(t)
	return t
}

// TypedKey gives the History its keys, and the table the rest.
func (t *historyTable) TypedKey(ev *fyne.KeyEvent) {
	if t.onKey != nil && t.onKey(ev) {
		return
	}
	t.Table.TypedKey(ev)
}

// DoubleTapped selects the row clicked and opens it.
func (t *historyTable) DoubleTapped(ev *fyne.PointEvent) {
	t.Tapped(ev)
	if t.onDoubleTap != nil {
		t.onDoubleTap()
	}
}

// tableKey is what a key typed on the table does; it reports whether
// History took it.
func (h *historyView) tableKey(ev *fyne.KeyEvent) bool {
	if h.keys.handle(ev) {
		return true
	}
	switch ev.Name {
	case fyne.KeyEscape:
		h.win.Close()
	case fyne.KeyReturn, fyne.KeyEnter:
		h.openInStation()
	case fyne.KeyUp:
		h.selectRow(h.selected - 1)
	case fyne.KeyDown:
		h.selectRow(h.selected + 1)
	default:
		return false
	}
	return true
}

// selectRow selects a row (kept within the table), in the column
// selected last.
func (h *historyView) selectRow(row int) {
	row = min(max(row, 0), len(h.rows)-1)
	if row < 0 {
		return
	}
	h.table.Select(widget.TableCellID{Row: row, Col: h.selectedCol})
	h.table.Refresh()
}

// rowSelected shows the row's record beside the table and finds its
// strip off the UI goroutine.
func (h *historyView) rowSelected(id widget.TableCellID) {
	h.selected, h.selectedCol = id.Row, id.Col
	h.strip, h.wanted = nil, 0
	h.openBtn.Disable()
	h.archiveBtn.Disable()
	h.thumb.Image = nil
	h.thumb.Refresh()
	if id.Row < 0 || id.Row >= len(h.rows) {
		h.showRecord(nil)
		return
	}
	in := h.rows[id.Row]
	if in.ArchivePath != "" {
		h.archiveBtn.Enable()
	}
	h.showRecord(&in)
	h.stripNote.SetText("Reading the strip…")
	h.stripNote.Importance = widget.MediumImportance
	h.wanted = in.ID
	h.host.goBackground(func() func() {
		s := locateStrip(in)
		return func() {
			if h.wanted == s.id {
				h.showStrip(&s)
			}
		}
	})
}

// showStrip puts a found strip beside the table.
func (h *historyView) showStrip(s *historyStrip) {
	h.strip = s
	h.thumb.Image = s.image
	h.thumb.Refresh()
	h.stripNote.SetText(s.note)
	h.stripNote.Importance = widget.SuccessImportance
	if !s.ok {
		h.stripNote.Importance = widget.DangerImportance
	}
	h.stripNote.Refresh()
	if s.ok {
		h.openBtn.Enable()
	}
}

// showRecord writes the selected record in full beside the table: what
// the columns shorten or leave out.
func (h *historyView) showRecord(in *audit.Inspection) {
	if in == nil {
		h.recordTitle.SetText("Select a row to see its strip")
		h.recordText.SetText("")
		h.stripNote.SetText("")
		return
	}
	title := fmt.Sprintf("#%d %s: %s", in.ID, filepath.Base(in.Path), in.FinalDecision())
	if !in.OperatorDecision.IsZero() {
		title += fmt.Sprintf(" (automatic %s, decided by %s)", in.AutoDecision, in.Operator)
	}
	h.recordTitle.SetText(title)
	lines := []string{
		fmt.Sprintf("Inspected %s by the %s", in.InspectedAt.Local().Format("2006-01-02 15:04:05"), sourceName(in.Source)),
		fmt.Sprintf("Model %s %s (sha256 %s)", in.ModelName, in.ModelVersion, short(in.ModelSHA256)),
	}
	if in.DefectClass != "" {
		lines = append(lines, "Most likely defect class: "+in.DefectClass)
	}
	if in.ReviewReason != "" {
		lines = append(lines, "Reason: "+in.ReviewReason)
	}
	h.recordText.SetText(strings.Join(lines, "\n"))
}

// sourceName says which entry point recorded an inspection.
func sourceName(s string) string {
	switch s {
	case "window":
		return "station window"
	case "watch":
		return "hot folder"
	case "scan":
		return "scan command"
	case "api":
		return "API"
	}
	return s
}

// short is the start of a hex digest, enough to tell two apart.
func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// openInStation shows the selected row's strip in the station window.
func (h *historyView) openInStation() {
	s := h.strip
	if s == nil || !s.ok || h.selected < 0 || h.selected >= len(h.rows) || h.rows[h.selected].ID != s.id {
		return
	}
	h.host.openRecorded(h.rows[h.selected], s.path)
}

// openRecorded shows a recorded inspection in the window, as it was
// recorded: its recorded decision and any person's decision over it, the
// strip analysed again for display only (showItem), so nothing is
// recorded. A strip the Processed list holds (the same audit id) is
// selected; any other joins the list as the shift's strips do when the
// window starts (addRestored), read from path: where the trail last put
// the file, or its archived copy.
func (i *Inspector) openRecorded(r audit.Inspection, path string) {
	idx := i.processed.indexOfRecord(r.ID)
	if idx < 0 {
		r.FilePath = path
		i.addRestored([]audit.Inspection{r})
		idx = i.processed.indexOfRecord(r.ID)
	}
	if idx < 0 {
		i.showError(fmt.Sprintf("Could not open inspection #%d", r.ID), openRefusal(i, r, path))
		return
	}
	i.win.RequestFocus()
	i.showItem(idx)
}

// openRefusal says why a recorded inspection could not join the list.
func openRefusal(i *Inspector, r audit.Inspection, path string) string {
	if i.processed.holds(source{path: path}) {
		return fmt.Sprintf("%s is in the Processed list already, as another inspection of the same file; inspection #%d stays in History.",
			path, r.ID)
	}
	return fmt.Sprintf("Inspection #%d could not join the Processed list.", r.ID)
}
