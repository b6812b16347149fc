package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
)

// buildStationBar is the second toolbar row: the operator on shift, the
// audit history, the hot folder and the reports.
func (i *Inspector) buildStationBar() fyne.CanvasObject {
	w := &i.w
	w.operatorLabel = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	change := widget.NewButtonWithIcon("Change operator", theme.AccountIcon(), func() { i.askOperator(true) })
	history := widget.NewButtonWithIcon("History…", theme.HistoryIcon(), i.showHistory)
	w.watchBtn = widget.NewButtonWithIcon("Watch folder…", theme.VisibilityIcon(), i.toggleWatch)
	w.watchLabel = widget.NewLabel("")
	w.watchLabel.Hide()
	w.reportBtn = widget.NewButtonWithIcon("Save report…", theme.DocumentSaveIcon(), i.saveReportDialog)
	w.reportsBtn = widget.NewButtonWithIcon("Save reports for all…", theme.DocumentSaveIcon(), i.saveAllReportsDialog)
	objs := []fyne.CanvasObject{}
	if i.store != nil {
		objs = append(objs, widget.NewIcon(theme.AccountIcon()), w.operatorLabel, change, widget.NewSeparator(), history)
	}
	objs = append(objs, w.watchBtn, w.watchLabel, layout.NewSpacer(), w.reportBtn, w.reportsBtn)
	i.refreshOperator()
	return container.NewHBox(objs...)
}

// buildReviewBox is the operator's part of the result card.
func (i *Inspector) buildReviewBox() fyne.CanvasObject {
	w := &i.w
	w.reviewInfo = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	w.reviewInfo.Wrapping = fyne.TextWrapWord
	w.passBtn = widget.NewButtonWithIcon("PASS (P)", theme.ConfirmIcon(), func() { i.confirm(inference.Pass, true) })
	w.passBtn.Importance = widget.SuccessImportance
	w.rejectBtn = widget.NewButtonWithIcon("REJECT (R)", theme.CancelIcon(), func() { i.confirm(inference.Reject, true) })
	w.rejectBtn.Importance = widget.DangerImportance
	w.nextReviewBtn = widget.NewButtonWithIcon("Next review (N)", theme.MediaSkipNextIcon(), i.nextNeedingReview)
	w.overrideBtn = widget.NewButtonWithIcon("Override…", theme.WarningIcon(), func() { i.askOverride(true) })
	w.reviewBox = container.NewVBox(w.reviewInfo,
		container.NewCenter(container.NewHBox(w.passBtn, w.rejectBtn, w.nextReviewBtn, w.overrideBtn)))
	w.reviewBox.Hide()
	return w.reviewBox
}

// askOperator asks for the operator's name: once per shift at start, and
// again from "Change operator". The name is kept in memory only.
func (i *Inspector) askOperator(change bool) {
	entry := newDialogEntry(false, false)
	entry.SetPlaceHolder("Name or badge number")
	entry.SetText(i.operator)
	entry.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("enter your name")
		}
		return nil
	}
	title := "Operator on shift"
	if change {
		title = "Change operator"
	}
	d := i.keyedForm(title, "Start shift", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Operator", entry)},
		func(ok bool) {
			if ok {
				i.setOperator(entry.Text)
			}
		})
	d.Resize(fyne.NewSize(420, 180))
	i.operatorPrompt = d
	d.Show()
	i.win.Canvas().Focus(entry)
}

// setOperator names the operator whose reviews follow (and closes the
// operator prompt if it is still open: the name came another way).
func (i *Inspector) setOperator(name string) {
	i.operator = strings.TrimSpace(name)
	if d := i.operatorPrompt; d != nil {
		i.operatorPrompt = nil
		d.Hide()
	}
	i.refreshOperator()
}

func (i *Inspector) refreshOperator() {
	if i.w.operatorLabel == nil {
		return
	}
	if i.operator == "" {
		i.w.operatorLabel.SetText("No operator")
	} else {
		i.w.operatorLabel.SetText("Operator: " + i.operator)
	}
}

// confirm records the operator's decision on the shown strip: for a
// REVIEW strip, the decision; for an automatic one, a confirmation when it
// agrees and an override (asking for a reason) when it does not. From the
// keyboard (focusReason false) the reason box is not focused: the key that
// opened it must not type into it.
func (i *Inspector) confirm(decision inference.Decision, focusReason bool) {
	it := i.currentItem()
	if it == nil || i.store == nil || it.auditID == 0 || it.review != nil {
		return
	}
	if i.operator == "" {
		i.askOperator(false)
		return
	}
	if it.auto != inference.Review && it.auto != decision {
		i.askOverride(focusReason)
		return
	}
	i.submitReview(it, decision, "", it.auto == inference.Review)
}

// askOverride asks for the reason to override the shown strip's automatic
// decision; the override is recorded only with one (audit.CheckReason).
// focus puts the cursor in the reason box (not when a key opened it).
func (i *Inspector) askOverride(focus bool) {
	it := i.currentItem()
	if it == nil || i.store == nil || it.auditID == 0 || it.auto == inference.Review || it.review != nil {
		return
	}
	if i.operator == "" {
		i.askOperator(false)
		return
	}
	to := overrideOf(it.auto)
	reason := newDialogEntry(false, true)
	reason.SetPlaceHolder("Why the automatic decision is wrong")
	reason.SetMinRowsVisible(3)
	reason.Validator = audit.CheckReason
	d := i.keyedForm(fmt.Sprintf("Override automatic %s with %s", it.auto, to), "Record "+to.String(), "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Reason", reason)},
		func(ok bool) {
			if ok {
				i.override(reason.Text)
			}
		})
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
	if focus {
		i.win.Canvas().Focus(reason)
	}
}

// override records the opposite of the shown strip's automatic decision
// with a reason. The audit trail refuses one without a reason.
func (i *Inspector) override(reason string) {
	it := i.currentItem()
	if it == nil || i.store == nil || it.auditID == 0 || it.auto == inference.Review {
		return
	}
	i.submitReview(it, overrideOf(it.auto), strings.TrimSpace(reason), false)
}

func overrideOf(auto inference.Decision) inference.Decision {
	if auto == inference.Pass {
		return inference.Reject
	}
	return inference.Pass
}

// submitReview writes the review to the audit trail off the UI goroutine
// and shows it once it is durable; then, when asked, moves on to the next
// strip needing review.
func (i *Inspector) submitReview(it *item, decision inference.Decision, reason string, advance bool) {
	id, op, store := it.auditID, i.operator, i.store
	i.goBackground(func() func() {
		err := store.Review(i.ctx, id, decision.String(), op, reason)
		return func() {
			if err != nil {
				i.showError("Review not recorded", fmt.Sprintf("%s: %v", it.name, err))
				return
			}
			it.review = &operatorReview{decision: decision, operator: op, reason: reason, at: time.Now()}
			i.lastDecided = it
			i.refilter()
			i.refreshImageCount()
			i.refreshReview()
			if it == i.currentItem() {
				i.refreshResult() // the operator's decision is the headline now
			}
			if advance {
				i.nextNeedingReview()
			}
		}
	})
}

func sameDay(y int, m time.Month, d int, t time.Time) bool {
	ty, tm, td := t.Date()
	return y == ty && m == tm && d == td
}

func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

// nextNeedingReview shows the next strip (after the shown one, wrapping
// round) that waits for an operator.
func (i *Inspector) nextNeedingReview() {
	n := len(i.items)
	for d := 1; d <= n; d++ {
		k := (i.current + d + n) % n
		if i.items[k].needsReview() {
			i.showItem(k)
			return
		}
	}
	i.setStatus("No strip needs review.")
}

// refreshReview shows the operator's decision on the card, or the actions
// the shown strip allows.
func (i *Inspector) refreshReview() {
	w := &i.w
	if w.reviewBox == nil {
		return
	}
	it := i.currentItem()
	if i.store == nil || it == nil || it.auditID == 0 {
		w.reviewBox.Hide()
		return
	}
	w.reviewBox.Show()
	r := it.review
	switch {
	case r != nil:
		when := r.at.Format("15:04:05")
		if y, m, d := r.at.Date(); !sameDay(y, m, d, time.Now()) {
			when = r.at.Format("2006-01-02 15:04")
		}
		text := fmt.Sprintf("Operator: %s by %s at %s", r.decision, r.operator, when)
		if r.reason != "" {
			text += "\nReason: " + r.reason
		}
		w.reviewInfo.SetText(text)
		od := r.decision
		w.reviewInfo.Importance = decisionImportance(od)
	case it.auto == inference.Review:
		w.reviewInfo.SetText("Waiting for the operator: P = PASS, R = REJECT, N = next strip to review")
		w.reviewInfo.Importance = widget.WarningImportance
	default:
		w.reviewInfo.SetText(fmt.Sprintf("Recorded as automatic %s (audit #%d)", it.auto, it.auditID))
		w.reviewInfo.Importance = widget.MediumImportance
	}
	w.reviewInfo.TextStyle.Bold = r != nil
	w.reviewInfo.Refresh()
	// Only the actions this strip allows are offered.
	showIf(w.passBtn, it.needsReview())
	showIf(w.rejectBtn, it.needsReview())
	showIf(w.overrideBtn, r == nil && it.auto != inference.Review)
	if i.reviewCount() > 0 {
		w.nextReviewBtn.Enable()
	} else {
		w.nextReviewBtn.Disable()
	}
}

// undoLastDecision takes back the last P, R or override made in this
// window (Ctrl+Z, Edit menu): the audit trail keeps the decision and adds
// its undo (audit.Store.Undo), and the strip waits for an operator again.
func (i *Inspector) undoLastDecision() {
	it := i.lastDecided
	if it == nil || it.review == nil || i.store == nil || i.topDialog() != nil {
		i.setStatus("Nothing to undo: no decision made in this window since it opened (or since the last undo).")
		return
	}
	id, op, store, undone := it.auditID, i.operator, i.store, it.review.decision
	if op == "" {
		op = it.review.operator
	}
	i.goBackground(func() func() {
		err := store.Undo(i.ctx, id, op)
		return func() {
			if err != nil {
				i.showError("Decision not undone", fmt.Sprintf("%s: %v", it.name, err))
				return
			}
			it.review, i.lastDecided = nil, nil
			i.refilter()
			i.refreshImageCount()
			i.refreshReview()
			if it == i.currentItem() {
				i.refreshResult()
			}
			i.setStatus(fmt.Sprintf("Undid %s on %s (recorded in the audit trail); it waits for a decision again.", undone, it.name))
		}
	})
}
