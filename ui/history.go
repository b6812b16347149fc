package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// historyView is the audit history window: inspections filtered by date,
// final decision and operator, with CSV export.
type historyView struct {
	host  historyHost
	store *audit.Store
	keys  dialogKeys
	// errors records every error shown, for tests.
	errors []string
	// selected is the table row selected (-1 none), selectedCol its
	// column; archiveBtn opens its archived strip, openBtn shows it in
	// the station (historystrip.go).
	selected, selectedCol int
	archiveBtn, openBtn   *widget.Button
	// strip is the selected row's strip once found (nil before), wanted
	// the audit id of the row whose strip is being found; thumb shows it,
	// stripNote says where its file is, recordTitle and recordText the
	// record in full.
	strip                  *historyStrip
	wanted                 int64
	thumb                  *canvas.Image
	stripNote, recordTitle *widget.Label
	recordText             *widget.Label
	// archived is the archived strip shown last, for tests.
	archived *archivedView
	win      fyne.Window

	// since, until and operator are entries Esc typed into closes the
	// window from, as it does from the table (historyTable).
	since, until *dialogEntry
	decision     *widget.Select
	operator     *dialogEntry
	count        *widget.Label
	table        *historyTable
	rows         []audit.Inspection
	query        audit.Query
	// widths are the columns' widths as set, for tests.
	widths []float32
}

const anyDecision = "Any"

// historyColumns are the table's columns and their widths; Source and
// Model widen to their widest text (fitColumns).
var historyColumns = []struct {
	title string
	width float32
}{
	{"#", 50}, {"Inspected", 160}, {"Source", 65}, {"File", 210}, {"Final", 75}, {"Auto", 75},
	{"Operator", 110}, {"Reviewed", 160}, {"Reason", 220}, {"Confidence", 90}, {"Model", 140},
	{"Sent to review because", 320},
}

// historyFinalColumn is the column of the final disposition: the
// operator's decision where there is one, else the automatic one.
const historyFinalColumn = 4

// historySourceColumn and historyModelColumn are widened to their text;
// historyModelMax bounds the Model column.
const (
	historySourceColumn = 2
	historyModelColumn  = 10
	historyModelMax     = 320
)

// showHistory opens the history window, or brings it forward.
func (i *Inspector) showHistory() {
	if i.store == nil {
		return
	}
	if i.history != nil {
		i.history.win.RequestFocus()
		i.history.reload()
		return
	}
	h := &historyView{host: i, store: i.store, win: i.app.NewWindow(AppName + " – audit history"), selected: -1}
	h.keys = dialogKeys{win: h.win}
	h.keys.listenOnWithEsc(h.win.Close)
	h.win.SetContent(h.build())
	h.win.Resize(i.withinMainWindow(fyne.NewSize(1320, 700)))
	h.win.CenterOnScreen() // over the main window, which fills the screen it is on
	h.win.SetOnClosed(func() { i.history = nil })
	i.history = h
	h.win.Show()
	h.reload()
}

func (h *historyView) build() fyne.CanvasObject {
	today := time.Now().Format(dateLayout)
	h.since, h.until, h.operator = newDialogEntry(false, false), newDialogEntry(false, false), newDialogEntry(false, false)
	h.since.onEsc, h.until.onEsc, h.operator.onEsc = h.win.Close, h.win.Close, h.win.Close
	h.since.SetPlaceHolder("YYYY-MM-DD")
	h.since.SetText(today)
	h.until.SetPlaceHolder("YYYY-MM-DD")
	h.until.SetText(today)
	h.decision = widget.NewSelect([]string{anyDecision, verdict.Pass.String(), verdict.Review.String(), verdict.Reject.String()}, nil)
	h.decision.SetSelected(anyDecision)
	h.operator.SetPlaceHolder("any operator")
	apply := widget.NewButtonWithIcon("Apply", theme.SearchIcon(), h.reload)
	apply.Importance = widget.HighImportance
	export := widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), h.askExport)
	h.count = widget.NewLabel("")
	filters := container.NewHBox(
		widget.NewLabel("From"), sized(h.since, 130), widget.NewLabel("to"), sized(h.until, 130),
		widget.NewLabel("Final decision"), h.decision,
		widget.NewLabel("Operator"), sized(h.operator, 160), apply, export)

	h.table = newHistoryTable(
		func() (int, int) { return len(h.rows), len(historyColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row >= len(h.rows) {
				l.SetText("")
				return
			}
			text, imp := historyCell(&h.rows[id.Row], id.Col)
			l.Importance = imp
			// the final disposition is the headline; the automatic
			// decision and the operator's stay beside it
			l.TextStyle.Bold = id.Col == historyFinalColumn
			l.SetText(text)
		})
	h.table.OnSelected = h.rowSelected
	h.table.onKey = h.tableKey
	h.table.onDoubleTap = h.openInStation
	h.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	h.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(historyColumns) {
			o.(*widget.Label).SetText(historyColumns[id.Col].title)
		}
	}
	h.widths = make([]float32, len(historyColumns))
	for c, col := range historyColumns {
		h.setColumnWidth(c, col.width)
	}
	return container.NewBorder(container.NewVBox(filters, h.count), h.buildStripPane(), nil, nil, h.table)
}

// buildStripPane is the pane under the table: the selected row's strip
// (a thumbnail), and beside it the record in full, where its file is,
// and the buttons that open it.
func (h *historyView) buildStripPane() fyne.CanvasObject {
	h.thumb = canvas.NewImageFromImage(nil)
	h.thumb.FillMode = canvas.ImageFillContain
	h.thumb.SetMinSize(fyne.NewSize(480, 120))
	h.recordTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.recordTitle.Wrapping = fyne.TextWrapWord
	h.recordText = widget.NewLabel("")
	h.recordText.Wrapping = fyne.TextWrapWord
	h.stripNote = widget.NewLabel("")
	h.stripNote.Wrapping = fyne.TextWrapBreak
	h.openBtn = widget.NewButtonWithIcon("Open in the station", theme.VisibilityIcon(), h.openInStation)
	h.openBtn.Importance = widget.HighImportance
	h.openBtn.Disable()
	h.archiveBtn = widget.NewButtonWithIcon("Archived strip…", theme.FileImageIcon(), h.showArchived)
	h.archiveBtn.Disable()
	h.showRecord(nil)
	side := container.New(&fixedWidth{width: 460}, container.NewVBox(h.recordTitle, h.recordText, h.stripNote,
		container.NewHBox(h.openBtn, h.archiveBtn)))
	return container.NewBorder(widget.NewSeparator(), nil, nil, side, h.thumb)
}

func sized(o fyne.CanvasObject, width float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(width, o.MinSize().Height), o)
}

const dateLayout = "2006-01-02"

// historyCell is the text of one cell and how it stands out.
func historyCell(in *audit.Inspection, col int) (string, widget.Importance) {
	switch col {
	case 0:
		return fmt.Sprint(in.ID), widget.MediumImportance
	case 1:
		return in.InspectedAt.Local().Format("2006-01-02 15:04:05"), widget.MediumImportance
	case historySourceColumn:
		return in.Source, widget.LowImportance
	case 3:
		return filepath.Base(in.Path), widget.MediumImportance
	case historyFinalColumn:
		return in.FinalDecision().String(), decisionImportance(in.FinalDecision())
	case 5:
		return in.AutoDecision.String(), decisionImportance(in.AutoDecision)
	case 6:
		return in.Operator, widget.MediumImportance
	case 7:
		if in.ReviewedAt.IsZero() {
			return "", widget.MediumImportance
		}
		return in.ReviewedAt.Local().Format("2006-01-02 15:04:05"), widget.MediumImportance
	case 8:
		return in.ReviewReason, widget.MediumImportance
	case 9:
		return fmt.Sprintf("%.1f %%", 100*in.Confidence), widget.MediumImportance
	case historyModelColumn:
		return in.ModelName + " " + in.ModelVersion, widget.LowImportance
	case 11:
		return in.Cautions, widget.WarningImportance
	}
	return "", widget.MediumImportance
}

// readQuery turns the filters into an audit query. The dates are local
// days, both included.
func (h *historyView) readQuery() (audit.Query, error) {
	var q audit.Query
	if s := strings.TrimSpace(h.since.Text); s != "" {
		t, err := time.ParseInLocation(dateLayout, s, time.Local)
		if err != nil {
			return q, fmt.Errorf("from date %q: use YYYY-MM-DD", s)
		}
		q.Since = t
	}
	if s := strings.TrimSpace(h.until.Text); s != "" {
		t, err := time.ParseInLocation(dateLayout, s, time.Local)
		if err != nil {
			return q, fmt.Errorf("to date %q: use YYYY-MM-DD", s)
		}
		q.Until = t.AddDate(0, 0, 1)
	}
	if d, err := verdict.ParseDecision(h.decision.Selected); err == nil { // anyDecision is none
		q.Decision = verdict.Some(d)
	}
	q.Operator = strings.TrimSpace(h.operator.Text)
	return q, nil
}

// fitColumns widens Source and Model to their widest text, header
// included, so neither is cut short; a model's name and version past
// historyModelMax is, and the pane under the table names it in full.
func (h *historyView) fitColumns() {
	for _, col := range []int{historySourceColumn, historyModelColumn} {
		w := max(historyColumns[col].width, textWidth(historyColumns[col].title, fyne.TextStyle{Bold: true}))
		seen := map[string]bool{}
		for k := range h.rows {
			text, _ := historyCell(&h.rows[k], col)
			if !seen[text] {
				seen[text] = true
				w = max(w, textWidth(text, fyne.TextStyle{}))
			}
		}
		if col == historyModelColumn {
			w = min(w, historyModelMax)
		}
		h.setColumnWidth(col, w)
	}
}

func (h *historyView) setColumnWidth(col int, w float32) {
	h.widths[col] = w
	h.table.SetColumnWidth(col, w)
}

// textWidth is the width a label takes to show text whole: its
// minimum width and a padding more (a label exactly its minimum width
// still cut "window" to "wind…").
func textWidth(text string, style fyne.TextStyle) float32 {
	return fyne.MeasureText(text, theme.TextSize(), style).Width + 2*theme.InnerPadding() + theme.Padding()
}

// within is want made no larger than win's canvas.
func within(win fyne.Window, want fyne.Size) fyne.Size {
	s := win.Canvas().Size()
	if s.Width <= 0 || s.Height <= 0 {
		return want
	}
	return fyne.NewSize(min(want.Width, s.Width), min(want.Height, s.Height))
}

// reload queries the audit trail off the UI goroutine.
func (h *historyView) reload() {
	q, err := h.readQuery()
	if err != nil {
		h.showError(err)
		return
	}
	store, ctx := h.store, h.host.lifetime()
	h.host.goBackground(func() func() {
		rows, err := store.History(ctx, q)
		return func() {
			if err != nil {
				h.showError(err)
				return
			}
			h.rows, h.query = rows, q
			h.table.UnselectAll()
			h.rowSelected(widget.TableCellID{Row: -1})
			h.fitColumns()
			reviewed := 0
			for k := range rows {
				if !rows[k].OperatorDecision.IsZero() {
					reviewed++
				}
			}
			h.count.SetText(fmt.Sprintf("%d inspections, %d reviewed by an operator", len(rows), reviewed))
			h.table.Refresh()
		}
	})
}

func (h *historyView) askExport() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			h.showError(err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		h.export(path)
	}, h.win)
	d.SetFileName("audit-" + time.Now().Format("20060102-1504") + ".csv")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	startInLastDir(d, h.host.prefs())
	d.Resize(fyne.NewSize(900, 600))
	h.keys.fileDialog(d)
	d.Show()
}

// showError shows err in this window, in a dialog Enter and Esc close.
func (h *historyView) showError(err error) {
	h.errors = append(h.errors, err.Error())
	text := widget.NewLabel(err.Error())
	text.Wrapping = fyne.TextWrapWord
	h.keys.message("Error", container.New(&fixedWidth{width: 480}, text))
}

// export writes the inspections matching the filters to a CSV file.
func (h *historyView) export(path string) {
	q, err := h.readQuery()
	if err != nil {
		h.showError(err)
		return
	}
	store, ctx := h.store, h.host.lifetime()
	h.host.goBackground(func() func() {
		n, err := exportCSV(ctx, store, q, path)
		return func() {
			if err != nil {
				h.showError(err)
				return
			}
			h.count.SetText(fmt.Sprintf("Exported %d inspections to %s", n, path))
		}
	})
}

func exportCSV(ctx context.Context, store *audit.Store, q audit.Query, path string) (int, error) {
	rows, err := store.History(ctx, q)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	if err := audit.WriteCSV(f, rows); err != nil {
		f.Close()
		return 0, fmt.Errorf("export %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("export %s: %w", path, err)
	}
	return len(rows), nil
}

// archivedView is an archived strip as the history shows it: its report
// (strip, heatmap, decision) or the strip itself, and whether the file is
// still the one recorded.
type archivedView struct {
	path    string
	image   image.Image
	matches bool // its sha256 is the record's
}

// showArchived opens the selected inspection's archived strip: its report
// PNG when there is one, else the strip, checked against the sha256 in
// the record.
func (h *historyView) showArchived() {
	if h.selected < 0 || h.selected >= len(h.rows) || h.rows[h.selected].ArchivePath == "" {
		return
	}
	in := h.rows[h.selected]
	h.host.goBackground(func() func() {
		v, err := openArchived(in.ArchivePath, in.ArchiveSHA256)
		return func() {
			if err != nil {
				h.showError(err)
				return
			}
			h.archived = v
			img := canvas.NewImageFromImage(v.image)
			img.FillMode = canvas.ImageFillContain
			img.SetMinSize(fyne.NewSize(900, 300))
			check := widget.NewLabel("sha256 matches the record")
			check.Importance = widget.SuccessImportance
			if !v.matches {
				check.SetText("sha256 does NOT match the record: the archived file was changed")
				check.Importance = widget.DangerImportance
			}
			path := widget.NewLabel(in.ArchivePath)
			path.Wrapping = fyne.TextWrapBreak
			d := dialog.NewCustom(fmt.Sprintf("Inspection #%d: %s", in.ID, in.FinalDecision()), "Close",
				container.NewBorder(nil, container.NewVBox(check, path), nil, nil, img), h.win)
			d.Resize(within(h.win, fyne.NewSize(1000, 520)))
			h.keys.track(d, d.Hide, d.Hide)
			d.Show()
		}
	})
}

// openArchived reads an archived strip, checks it against sum, and
// decodes its report (beside it) or, without one, the strip.
func openArchived(path, sum string) (*archivedView, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("archived strip: %v", err)
	}
	v := &archivedView{path: path, matches: inference.SHA256Hex(data) == sum}
	show := data
	if rep, err := os.ReadFile(strings.TrimSuffix(path, filepath.Ext(path)) + ".report.png"); err == nil {
		show = rep
	}
	if v.image, _, err = image.Decode(bytes.NewReader(show)); err != nil {
		return nil, fmt.Errorf("archived strip %s: %v", path, err)
	}
	return v, nil
}
