package ui

import (
	"cmp"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"steelinspect/verdict"
)

// Columns of the detailed patch table.
const (
	colIndex = iota
	colX
	colY
	colW
	colH
	colProbability
	colZone
	numCols
)

var colTitles = [numCols]string{"#", "x", "y", "w", "h", "Probability", "Zone"}
var colWidths = [numCols]float32{56, 70, 60, 60, 60, 130, 190}

// sortMode is the patch table's order: a column and a direction.
type sortMode struct {
	col  int
	desc bool
}

// sortByIndex is patch order, the order the engine scored them in.
var sortByIndex = sortMode{col: colIndex}

// sortByProbability puts the most suspicious patch first.
var sortByProbability = sortMode{col: colProbability, desc: true}

func (s *stripPanel) buildPatchTable() *widget.Table {
	t := widget.NewTable(
		func() (int, int) {
			if a, v := s.analysis(); a != nil && v != nil {
				return len(a.Patches), numCols
			}
			return 0, numCols
		},
		func() fyne.CanvasObject {
			return widget.NewLabelWithStyle("0.000", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		},
		s.updatePatchCell)
	t.ShowHeaderRow = true
	// a selected row outlines its patch on the strip
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(s.tableOrder) {
			s.view.highlightPatch(s.tableOrder[id.Row])
		}
	}
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 || id.Col >= numCols {
			b.SetText("")
			b.OnTapped = nil
			return
		}
		col := id.Col
		title := colTitles[col]
		if s.sortMode.col == col && (col != colIndex || s.sortMode.desc) {
			if s.sortMode.desc {
				title += " ▼"
			} else {
				title += " ▲"
			}
		}
		b.SetText(title)
		b.OnTapped = func() { s.sortTable(col) }
	}
	for c, w := range colWidths {
		t.SetColumnWidth(c, w)
	}
	return t
}

func (s *stripPanel) updatePatchCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	a, v := s.analysis()
	if a == nil || v == nil || id.Row >= len(s.tableOrder) {
		l.SetText("")
		return
	}
	k := s.tableOrder[id.Row]
	p := a.Patches[k]
	l.Importance = widget.MediumImportance
	l.Alignment = fyne.TextAlignTrailing
	// the row of the patch under the pointer stands out (in the theme's
	// primary colour; the monospace font has no bold face)
	hovered := k == s.hoverPatch
	if hovered {
		l.Importance = widget.HighImportance
	}
	l.TextStyle = fyne.TextStyle{Monospace: true}
	switch id.Col {
	case colIndex:
		l.Text = fmt.Sprintf("%d", k)
		if hovered {
			l.Text = fmt.Sprintf("▶ %d", k)
		}
	case colX:
		l.Text = fmt.Sprintf("%d", p.X)
	case colY:
		l.Text = fmt.Sprintf("%d", p.Y)
	case colW:
		l.Text = fmt.Sprintf("%d", p.W)
	case colH:
		l.Text = fmt.Sprintf("%d", p.H)
	case colProbability:
		l.Text = fmt.Sprintf("%.3f", p.Probability)
	case colZone:
		l.Text, l.Importance = zoneCell(v, k, p.Class)
		l.Alignment = fyne.TextAlignLeading
	}
	l.Refresh()
}

// zoneCell is the patch table's Zone cell of patch k under v: the zone
// (and the likely class of a flagged patch) in the zone's colour, or, on
// a strip with a caution, marked a guess without colour (asGuess).
func zoneCell(v *verdict.Verdict, k int, class string) (string, widget.Importance) {
	z := v.Zones[k]
	text := z.String()
	if z != verdict.ZoneAutoPass && class != "" {
		text += " · " + class
	}
	if scoreIsAGuess(v) {
		return "guess · " + text, widget.LowImportance
	}
	return text, decisionImportance(verdict.Decision(z))
}

// sortTable orders the table by a column; the same column again flips the
// direction. The probability column starts with the highest first.
func (s *stripPanel) sortTable(col int) {
	if s.sortMode.col == col {
		s.sortMode.desc = !s.sortMode.desc
	} else {
		s.sortMode = sortMode{col: col, desc: col == colProbability}
	}
	s.refreshTable()
}

// setSort orders the table as given.
func (s *stripPanel) setSort(m sortMode) {
	s.sortMode = m
	s.refreshTable()
}

// refreshTable recomputes the row order and redraws the table.
func (s *stripPanel) refreshTable() {
	a, v := s.analysis()
	s.tableOrder = s.tableOrder[:0]
	if a != nil && v != nil {
		s.tableOrder = patchOrder(a.Patches, v.Zones, s.sortMode)
		s.details.Items[0].Title = fmt.Sprintf("Detailed patch analysis (%d patches)", len(a.Patches))
	} else {
		s.details.Items[0].Title = "Detailed patch analysis"
	}
	s.details.Refresh()
	s.table.Refresh()
}

// patchOrder returns patch indices sorted by the mode, ties broken by
// patch index.
func patchOrder(patches []verdict.Patch, zones []verdict.Zone, m sortMode) []int {
	order := make([]int, len(patches))
	for k := range order {
		order[k] = k
	}
	key := func(k int) float64 {
		p := patches[k]
		switch m.col {
		case colX:
			return float64(p.X)
		case colY:
			return float64(p.Y)
		case colW:
			return float64(p.W)
		case colH:
			return float64(p.H)
		case colProbability:
			return float64(p.Probability)
		case colZone:
			return float64(zoneAt(zones, k))*2 + float64(p.Probability)
		default:
			return float64(k)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		c := cmp.Compare(key(a), key(b))
		if m.desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a, b)
		}
		return c
	})
	return order
}

// tableHeight is the patch table's minimum: a header and two rows (so
// that the results fit without scrolling down to 1360×860); it grows with
// the window and scrolls inside itself.
func (s *stripPanel) tableHeight() float32 {
	cell := widget.NewLabel("0").MinSize().Height
	return 3*(cell+1) + 4
}

// barLayout draws its second object as a share of the first's width: a
// thin proportion bar on a track, centred vertically.
type barLayout struct{ share float32 }

const barHeight = 8

// Layout sizes the track to the width and the bar to the share.
func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := (size.Height - barHeight) / 2
	for k, o := range objs {
		o.Move(fyne.NewPos(0, y))
		if k == 0 {
			o.Resize(fyne.NewSize(size.Width, barHeight))
		} else {
			o.Resize(fyne.NewSize(size.Width*max(0, min(1, l.share)), barHeight))
		}
	}
}

// MinSize is a short thin bar.
func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(40, barHeight) }

// fixedWidth holds its objects at a set width.
type fixedWidth struct{ width float32 }

// Layout stretches every object over the area.
func (l *fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// MinSize is the set width and the tallest minimum height.
func (l *fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(l.width, h)
}
