package ui

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// processedList is the Processed column: the strips inspected in this
// window and those restored from the audit trail, the All / Needs review
// filter, the count with the shift's summary (shift.go) and the review
// queue (the strips waiting for an operator). It holds the strips and
// which rows the filter shows, and asks the window for the strip in view
// through processedHost. It belongs to the UI goroutine.
type processedList struct {
	host processedHost
	// recording: the window keeps an audit trail, so the count says the
	// shift's figures too.
	recording bool

	items      []*item
	byKey      map[string]int // source key to index in items
	visible    []int          // indices of items the list shows
	reviewOnly bool           // the list shows only strips needing review

	list      *widget.List
	count     *widget.Label
	filter    *widget.RadioGroup
	selecting bool // the list is being selected by code
}

// processedHost is what the Processed list needs of the window. The
// Inspector implements it.
type processedHost interface {
	// shownIndex is the index in items of the strip in view, -1 when none.
	shownIndex() int
	// showItem shows the strip at index idx.
	showItem(idx int)
	// decisionOf is a strip's decision for its row (false while it has
	// none to show).
	decisionOf(it *item) (verdict.Decision, bool)
	// window is the window whose keys a picked row gives back.
	window() fyne.Window
}

// Processed list filters.
const (
	filterAll    = "All"
	filterReview = "Needs review"
)

func newProcessedList(host processedHost, recording bool) *processedList {
	return &processedList{host: host, recording: recording, byKey: map[string]int{}}
}

// item is one inspected strip. It stays small (probabilities, patch
// rectangles, file facts): the decoded image is dropped once scored and
// decoded again when the strip is shown, so thousands of strips take
// little memory.
type item struct {
	name     string              // what the user sees: the file's base name
	path     string              // file path; empty for an image held in memory
	data     []byte              // the encoded image when it has no path (demo strips)
	analysis *inference.Analysis // with Decoded emptied
	display  image.Image         // the strip reduced for the screen; only while shown
	modelGen int                 // modelPanel.gen when analysed

	auditID     int64            // row in the audit trail, 0 when not recorded
	inspectedAt time.Time        // when it was scored
	auto        verdict.Decision // decision recorded when inspected
	// cautions are the kinds of caution recorded with the decision (an
	// implausible strip needs a reason to pass: verdict.ReasonRequired).
	cautions []verdict.CautionKind
	review   *operatorReview
	// sha256 is the strip's content as the trail records it: a strip
	// opened again is known by it (reopen.go).
	sha256 string
}

// operatorReview is an operator's confirmation or override of a strip.
type operatorReview struct {
	decision         verdict.Decision // PASS or REJECT
	operator, reason string
	at               time.Time
}

// needsReview says whether the strip waits for an operator: recorded as
// REVIEW and not yet decided by one.
func (it *item) needsReview() bool { return it.auto == verdict.Review && it.review == nil }

func (it *item) source() source { return source{name: it.name, path: it.path, data: it.data} }

// build makes the column: the heading, the filter and the count over the
// list, with below (the model panel) under it.
func (p *processedList) build(below fyne.CanvasObject) fyne.CanvasObject {
	p.list = widget.NewList(
		func() int { return len(p.visible) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("strip-name.jpg")
			name.Truncation = fyne.TextTruncateEllipsis
			dec := widget.NewLabelWithStyle(verdict.Review.String(), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
			return container.NewBorder(nil, nil, swatchBox(color.Transparent, 12), dec, name)
		},
		p.updateRow)
	p.list.OnSelected = func(id widget.ListItemID) {
		if p.selecting || id >= len(p.visible) {
			return
		}
		// Give the keys back to the window: P, R and N reach it only
		// while no widget has the focus.
		p.host.window().Canvas().Unfocus()
		if k := p.visible[id]; k != p.host.shownIndex() {
			p.host.showItem(k)
		}
	}
	p.count = widget.NewLabel("")
	p.count.Wrapping = fyne.TextWrapWord // the shift's counts were cut at the panel's edge ("… 7 R")
	p.filter = widget.NewRadioGroup([]string{filterAll, filterReview}, func(s string) {
		p.setReviewFilter(s == filterReview)
	})
	p.filter.Required = true // one above the other: side by side they ran past the panel's edge
	p.filter.Selected = filterAll
	col := container.New(&listOverPanel{panelContent: below},
		container.NewVBox(heading("Processed"), p.filter, p.count), p.list, container.NewVScroll(below))
	return container.New(&fixedWidth{width: 250}, col)
}

// updateRow fills row id: the strip's name, and its decision in force
// with its colour (the operator's, ticked, over the automatic one).
func (p *processedList) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(p.visible) {
		return
	}
	it := p.items[p.visible[id]]
	c := o.(*fyne.Container)
	name := c.Objects[0].(*widget.Label)
	sw := c.Objects[1].(*fyne.Container).Objects[0].(*canvas.Rectangle)
	dec := c.Objects[2].(*widget.Label)
	name.SetText(it.name)
	d, ok := p.host.decisionOf(it)
	if it.review != nil {
		od := it.review.decision
		sw.FillColor = decisionColor(od)
		dec.SetText(it.review.decision.String() + " ✓")
		dec.Importance = decisionImportance(od)
	} else if !ok {
		sw.FillColor = theme.Color(theme.ColorNameDisabled)
		dec.SetText("…")
		dec.Importance = widget.LowImportance
	} else {
		sw.FillColor = decisionColor(d)
		dec.SetText(d.String())
		dec.Importance = decisionImportance(d)
	}
	sw.Refresh()
	dec.Refresh()
}

// refreshRows redraws the rows (a decision or a name changed).
func (p *processedList) refreshRows() { p.list.Refresh() }

// refreshCount says how many strips the list holds, and on a station the
// shift's figures.
func (p *processedList) refreshCount() {
	switch n := len(p.items); n {
	case 0:
		p.count.SetText("None loaded yet")
	case 1:
		p.count.SetText("1 image")
	default:
		p.count.SetText(fmt.Sprintf("%d images · ←/→ to browse", n))
	}
	if p.recording && len(p.items) > 0 {
		p.count.SetText(p.count.Text + "\n" + p.summarize(time.Now()).String())
	}
}

// add finds the row of s, adding an empty one when the list has none,
// and says whether it was there already.
func (p *processedList) add(s source) (idx int, held bool) {
	idx, held = p.byKey[s.key()]
	if !held {
		p.items = append(p.items, &item{name: s.name, path: s.path, data: s.data})
		idx = len(p.items) - 1
		p.byKey[s.key()] = idx
	}
	return idx, held
}

// placed shows row idx, filled in after add: a row held already may now
// pass the filter or not.
func (p *processedList) placed(idx int, held bool) {
	if held {
		p.refilter()
	} else if p.passesFilter(p.items[idx]) {
		p.visible = append(p.visible, idx)
	}
	p.list.Refresh()
}

// restore adds recorded strips (restored from the trail, or opened from
// History) without showing one, and says how many it added: a file the
// list holds already, or a decision this version does not know, is left
// out.
func (p *processedList) restore(rows []audit.Inspection) int {
	added := 0
	for _, r := range rows {
		path := r.CurrentPath()
		s := source{name: filepath.Base(path), path: path}
		if _, ok := p.byKey[s.key()]; ok {
			continue
		}
		it := &item{name: s.name, path: s.path, auditID: r.ID, auto: r.AutoDecision, inspectedAt: r.InspectedAt, modelGen: -1,
			cautions: verdict.ParseCautionKinds(r.CautionKinds), sha256: r.SHA256}
		if op, ok := r.OperatorDecision.Get(); ok {
			it.review = &operatorReview{decision: op, operator: r.Operator, reason: r.ReviewReason, at: r.ReviewedAt}
		}
		p.items = append(p.items, it)
		p.byKey[s.key()] = len(p.items) - 1
		added++
	}
	if added > 0 {
		p.refilter()
		p.list.Refresh()
	}
	return added
}

// moved follows a strip whose file was moved to path and says its index,
// -1 when the list does not hold it.
func (p *processedList) moved(it *item, path string) int {
	idx, ok := p.byKey[it.source().key()]
	if !ok || p.items[idx] != it {
		return -1
	}
	delete(p.byKey, it.source().key())
	it.path, it.name = path, filepath.Base(path)
	if _, taken := p.byKey[it.source().key()]; !taken {
		p.byKey[it.source().key()] = idx
	}
	p.list.Refresh()
	return idx
}

// adopt makes a known strip's row the row for s, the same content opened
// under another name (or as bytes), so its new inspection replaces the row
// instead of adding a second one. A name another row holds stays with it.
func (p *processedList) adopt(it *item, s source) {
	if it == nil || it.source().key() == s.key() {
		return
	}
	idx, ok := p.byKey[it.source().key()]
	if !ok || p.items[idx] != it {
		return
	}
	if _, taken := p.byKey[s.key()]; taken {
		return
	}
	delete(p.byKey, it.source().key())
	it.name, it.path, it.data = s.name, s.path, s.data
	p.byKey[s.key()] = idx
}

// holds says whether the list has a row for s.
func (p *processedList) holds(s source) bool {
	_, ok := p.byKey[s.key()]
	return ok
}

// indexOf is it's index in items, -1 when it is not there.
func (p *processedList) indexOf(it *item) int {
	for k, other := range p.items {
		if other == it {
			return k
		}
	}
	return -1
}

// indexOfRecord is the index of the strip recorded as audit row id, -1
// when none is.
func (p *processedList) indexOfRecord(id int64) int {
	for k, it := range p.items {
		if it.auditID == id {
			return k
		}
	}
	return -1
}

// passesFilter says whether the list shows an item.
func (p *processedList) passesFilter(it *item) bool {
	return !p.reviewOnly || it.needsReview()
}

// refilter rebuilds the list's rows.
func (p *processedList) refilter() {
	p.visible = p.visible[:0]
	for k, it := range p.items {
		if p.passesFilter(it) {
			p.visible = append(p.visible, k)
		}
	}
	if p.list != nil {
		p.list.Refresh()
		p.selectItem(p.host.shownIndex())
	}
}

// setReviewFilter shows all strips or only those needing review.
func (p *processedList) setReviewFilter(only bool) {
	p.reviewOnly = only
	p.refilter()
	p.refreshCount()
}

// selectItem marks item idx in the list, or nothing when the filter hides
// it.
func (p *processedList) selectItem(idx int) {
	sel := p.list
	if sel == nil {
		return
	}
	p.selecting = true
	defer func() { p.selecting = false }()
	for row, k := range p.visible {
		if k == idx {
			sel.Select(row)
			return
		}
	}
	sel.UnselectAll()
}

// reviewCount counts the strips waiting for an operator.
func (p *processedList) reviewCount() int {
	n := 0
	for _, it := range p.items {
		if it.needsReview() {
			n++
		}
	}
	return n
}

// nextReview is the index of the next strip after from (wrapping round)
// that waits for an operator, -1 when none does.
func (p *processedList) nextReview(from int) int {
	n := len(p.items)
	for d := 1; d <= n; d++ {
		k := (from + d + n) % n
		if p.items[k].needsReview() {
			return k
		}
	}
	return -1
}
