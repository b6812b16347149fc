package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/hotfolder"
	"steelinspect/verdict"
)

// buildStationBar is the second toolbar row: the operator on shift, the
// audit history, the hot folder and the reports.
func (i *Inspector) buildStationBar() fyne.CanvasObject {
	w := &i.w
	change := widget.NewButtonWithIcon("Change operator", theme.AccountIcon(), func() { i.review.askOperator(true) })
	history := widget.NewButtonWithIcon("History…", theme.HistoryIcon(), i.showHistory)
	w.reportBtn = widget.NewButtonWithIcon("Save report…", theme.DocumentSaveIcon(), i.saveReportDialog)
	w.reportsBtn = widget.NewButtonWithIcon("Save reports for all…", theme.DocumentSaveIcon(), i.saveAllReportsDialog)
	objs := []fyne.CanvasObject{}
	if i.store != nil {
		objs = append(objs, widget.NewIcon(theme.AccountIcon()), i.review.operatorLabel, change, widget.NewSeparator(), history)
	}
	objs = append(objs, i.watch.button, i.watch.sound, i.watch.banner, layout.NewSpacer(), w.reportBtn, w.reportsBtn)
	return container.NewHBox(objs...)
}

// reviewPanel is the operator's part of the station: who is on shift,
// the PASS / REJECT / Override… / Next review actions on the result card
// and the undo of the last decision. A decision is written to the audit
// trail before it is shown, and an undo is recorded beside it. It belongs
// to the UI goroutine and gets from the window only what reviewHost
// offers.
type reviewPanel struct {
	host     reviewHost
	operator string
	// prompt is the open "Operator on shift" dialog, nil when none.
	prompt dialog.Dialog
	// lastDecided is the strip of the last decision made in this window,
	// which undo takes back; nil when there is none to undo.
	lastDecided *item

	operatorLabel                            *widget.Label
	info                                     *widget.Label
	passBtn, rejectBtn, nextBtn, overrideBtn *widget.Button
	box                                      *fyne.Container
}

// reviewHost is what the review panel uses of the station window: the
// audit trail, the strip shown and the Processed list.
type reviewHost interface {
	screenHost
	window() fyne.Window
	auditStore() *audit.Store
	currentItem() *item
	reviewCount() int
	// showNextReview shows the next strip waiting for an operator and
	// says whether there was one.
	showNextReview() bool
	// decided shows a decision (or its undo) on the strip everywhere:
	// Processed list, counts and card.
	decided(it *item)
	// moved follows a strip whose file was moved to path.
	moved(it *item, path string)
	// fileNotMoved says why a decided strip's file was not moved, where it
	// stays in sight (the status bar alone is taken by the next strip).
	fileNotMoved(line string)
	keyedForm(title, confirm, dismiss string, items []*widget.FormItem, done func(bool)) *dialog.FormDialog
	topDialog() *keyedDialog
	showError(title, msg string)
	setStatus(s string)
}

// newReviewPanel builds the panel's widgets; box goes on the result card.
func newReviewPanel(host reviewHost) *reviewPanel {
	r := &reviewPanel{host: host}
	r.operatorLabel = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.info = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	r.info.Wrapping = fyne.TextWrapWord
	r.passBtn = widget.NewButtonWithIcon("PASS (P)", theme.ConfirmIcon(), func() { r.confirm(verdict.Pass, true) })
	r.passBtn.Importance = widget.SuccessImportance
	r.rejectBtn = widget.NewButtonWithIcon("REJECT (R)", theme.CancelIcon(), func() { r.confirm(verdict.Reject, true) })
	r.rejectBtn.Importance = widget.DangerImportance
	r.nextBtn = widget.NewButtonWithIcon("Next review (N)", theme.MediaSkipNextIcon(), r.next)
	r.overrideBtn = widget.NewButtonWithIcon("Override…", theme.WarningIcon(), func() { r.askOverride(true) })
	r.box = container.NewVBox(r.info,
		container.NewCenter(container.NewHBox(r.passBtn, r.rejectBtn, r.nextBtn, r.overrideBtn)))
	r.box.Hide()
	r.refreshOperator()
	return r
}

func (i *Inspector) decided(it *item) {
	i.processed.refilter()
	i.refreshImageCount()
	i.review.refresh()
	if it == i.currentItem() {
		i.refreshResult() // the operator's decision is the headline now
	}
}

// keyRuneSettle is how long a dialog a key opens waits, so that the
// letter the same key types has gone by before the dialog's box takes the
// focus.
const keyRuneSettle = 80 * time.Millisecond

// askOperator asks who is on shift: once at start, and again from
// "Change operator". On a station with named users the operator signs in
// (recorded); on one without any yet, or where an admin allowed it
// (steelinspect users free-text on), a name or badge number is typed.
func (r *reviewPanel) askOperator(change bool) {
	if store := r.host.auditStore(); store != nil {
		ctx := r.host.lifetime()
		settings, _ := store.LatestSettings(ctx)
		if ok, err := store.HasRole(ctx, audit.RoleOperator); err == nil && ok && settings[audit.SettingOperatorFreeText] != "on" {
			r.askSignIn(change)
			return
		}
	}
	r.askName(change)
}

// askSignIn asks the operator on shift to sign in.
func (r *reviewPanel) askSignIn(change bool) { r.askSignInAs(change, "") }

// askSignInAs is askSignIn with the user name filled in (asked again
// after a refused sign-in).
func (r *reviewPanel) askSignInAs(change bool, user string) {
	name, password := newDialogEntry(false, false), newDialogEntry(true, false)
	name.SetText(user)
	title := "Operator on shift"
	if change {
		title = "Change operator"
	}
	d := r.host.keyedForm(title, "Sign in", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("User", name), widget.NewFormItem("Password", password)},
		func(ok bool) {
			if ok {
				r.signIn(name.Text, password.Text, change)
			}
		})
	d.Resize(fyne.NewSize(420, 200))
	r.prompt = d
	d.Show()
	if user != "" {
		r.host.window().Canvas().Focus(password)
		return
	}
	r.host.window().Canvas().Focus(name)
}

// signIn checks the operator's password off the UI goroutine; the
// audit trail records the sign-in or the failed attempt.
func (r *reviewPanel) signIn(name, password string, change bool) {
	h := r.host
	store, ctx := h.auditStore(), h.lifetime()
	h.goBackground(func() func() {
		u, err := store.SignIn(ctx, name, password, audit.EventSignIn, "operator on shift")
		return func() {
			if err != nil {
				// asked again, the name kept: a wrong password left the
				// station running with no operator on shift
				r.askSignInAs(change, name)
				h.showError("Not signed in", audit.SignInMessage(err))
				return
			}
			r.setOperator(u.Name)
		}
	})
}

// askName asks for the operator's name or badge number, on a station
// without named users. The name is kept in memory only.
func (r *reviewPanel) askName(change bool) {
	entry := newDialogEntry(false, false)
	entry.SetPlaceHolder("Name or badge number")
	entry.SetText(r.operator)
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
	d := r.host.keyedForm(title, "Start shift", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Operator", entry)},
		func(ok bool) {
			if ok {
				r.setOperator(entry.Text)
			}
		})
	d.Resize(fyne.NewSize(420, 180))
	r.prompt = d
	d.Show()
	r.host.window().Canvas().Focus(entry)
}

// setOperator names the operator whose reviews follow (and closes the
// operator prompt if it is still open: the name came another way).
func (r *reviewPanel) setOperator(name string) {
	r.operator = strings.TrimSpace(name)
	if d := r.prompt; d != nil {
		r.prompt = nil
		d.Hide()
	}
	r.refreshOperator()
}

func (r *reviewPanel) refreshOperator() {
	if r.operator == "" {
		r.operatorLabel.SetText("No operator")
	} else {
		r.operatorLabel.SetText("Operator: " + r.operator)
	}
}

// confirm records the operator's decision on the shown strip: for a
// REVIEW strip, the decision; for an automatic one, a confirmation when it
// agrees. A decision that needs a reason (verdict.ReasonRequired: an
// override, or passing a strip the station found implausible) asks for
// one first. From the keyboard (focusReason false) the reason box is not
// focused: the key that opened it must not type into it.
func (r *reviewPanel) confirm(decision verdict.Decision, focusReason bool) {
	it := r.host.currentItem()
	if it == nil || r.host.auditStore() == nil || it.auditID == 0 || it.review != nil {
		return
	}
	if r.operator == "" {
		// asked a moment later: the key that got here also types its
		// letter, which must not land in the new name box (P started a
		// shift under the name "p")
		r.host.goBackground(func() func() {
			time.Sleep(keyRuneSettle)
			return func() { r.askOperator(false) }
		})
		return
	}
	if verdict.ReasonRequired(it.auto, decision, it.cautions) {
		r.askReason(decision, focusReason)
		return
	}
	r.submit(it, decision, "", it.auto == verdict.Review)
}

// askOverride asks for the reason to override the shown strip's automatic
// decision (Override…).
func (r *reviewPanel) askOverride(focus bool) {
	if it := r.host.currentItem(); it != nil && it.auto != verdict.Review {
		r.askReason(overrideOf(it.auto), focus)
	}
}

// askReason asks for the reason decision on the shown strip needs; it is
// recorded only with one (audit.CheckReason). focus puts the cursor in the
// reason box (not when a key opened it).
func (r *reviewPanel) askReason(decision verdict.Decision, focus bool) {
	it := r.host.currentItem()
	if it == nil || r.host.auditStore() == nil || it.auditID == 0 || it.review != nil ||
		!verdict.ReasonRequired(it.auto, decision, it.cautions) {
		return
	}
	if r.operator == "" {
		r.askOperator(false)
		return
	}
	title, hint := fmt.Sprintf("Override automatic %s with %s", it.auto, decision), "Why the automatic decision is wrong"
	if it.auto == verdict.Review {
		title, hint = fmt.Sprintf("%s a strip the station found implausible", decision), "Why this frame is good steel"
	}
	reason := newDialogEntry(false, true)
	reason.SetPlaceHolder(hint)
	reason.SetMinRowsVisible(3)
	reason.Validator = audit.CheckReason
	d := r.host.keyedForm(title, "Record "+decision.String(), "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Reason", reason)},
		func(ok bool) {
			if ok {
				r.decideWithReason(decision, reason.Text)
			}
		})
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
	if focus {
		r.host.window().Canvas().Focus(reason)
	}
}

// override records the opposite of the shown strip's automatic decision
// with a reason.
func (r *reviewPanel) override(reason string) {
	if it := r.host.currentItem(); it != nil && it.auto != verdict.Review {
		r.decideWithReason(overrideOf(it.auto), reason)
	}
}

// decideWithReason records a decision that needs a reason on the shown
// strip, with it. The audit trail refuses one without a reason.
func (r *reviewPanel) decideWithReason(decision verdict.Decision, reason string) {
	it := r.host.currentItem()
	if it == nil || r.host.auditStore() == nil || it.auditID == 0 || !verdict.ReasonRequired(it.auto, decision, it.cautions) {
		return
	}
	r.submit(it, decision, strings.TrimSpace(reason), it.auto == verdict.Review)
}

func overrideOf(auto verdict.Decision) verdict.Decision {
	if auto == verdict.Pass {
		return verdict.Reject
	}
	return verdict.Pass
}

// submit writes the review to the audit trail off the UI goroutine
// and shows it once it is durable; then, when asked, moves on to the next
// strip needing review.
func (r *reviewPanel) submit(it *item, decision verdict.Decision, reason string, advance bool) {
	h := r.host
	id, op, store, ctx := it.auditID, r.operator, h.auditStore(), h.lifetime()
	h.goBackground(func() func() {
		err := store.Review(ctx, id, decision, op, reason)
		var filed refiled
		if err == nil {
			filed = refile(ctx, store, id, op)
		}
		return func() {
			if err != nil {
				h.showError("Review not recorded", fmt.Sprintf("%s: %v", it.name, err))
				return
			}
			it.review = &operatorReview{decision: decision, operator: op, reason: reason, at: time.Now()}
			r.lastDecided = it
			h.decided(it)
			if advance {
				r.next()
			}
			if line := r.followFile(it, filed); line != "" {
				h.setStatus(line)
			}
		}
	})
}

// refiled is what hotfolder.Refile did after a decision, or its error.
type refiled struct {
	hotfolder.Refiled
	err error
}

// refile moves the file of a strip the hot folder filed into the folder
// of its decision in force, recorded as by who (hotfolder.Refile); off
// the UI goroutine, once the decision is recorded.
func refile(ctx context.Context, store *audit.Store, id int64, who string) refiled {
	rf, err := hotfolder.Refile(ctx, store, id, who)
	return refiled{rf, err}
}

// followFile follows a strip's file to where its decision moved it, and
// says so in one line: where it went, why it did not go (the decision
// stays recorded), or "" when it had nowhere to go.
func (r *reviewPanel) followFile(it *item, f refiled) string {
	name := it.name
	if f.To != "" {
		r.host.moved(it, f.To)
	}
	switch {
	case f.err != nil:
		line := fmt.Sprintf("Hot folder: %s: %v", name, f.err)
		r.host.fileNotMoved(line)
		return line
	case f.Note != "":
		r.host.fileNotMoved("Hot folder: " + f.Note)
		return "Hot folder: " + f.Note
	case f.To != "":
		return fmt.Sprintf("Hot folder: %s moved to %s (recorded in the audit trail).", name, filepath.Join(filepath.Base(filepath.Dir(f.To)), filepath.Base(f.To)))
	}
	return ""
}

func sameDay(y int, m time.Month, d int, t time.Time) bool {
	ty, tm, td := t.Date()
	return y == ty && m == tm && d == td
}

// next shows the next strip that waits for an operator.
func (r *reviewPanel) next() {
	if !r.host.showNextReview() {
		r.host.setStatus("No strip needs review.")
	}
}

// showNextReview shows the next strip (after the shown one, wrapping
// round) that waits for an operator.
func (i *Inspector) showNextReview() bool {
	k := i.processed.nextReview(i.current)
	if k < 0 {
		return false
	}
	i.showItem(k)
	return true
}

// refresh shows the operator's decision on the card, or the actions the
// shown strip allows.
func (r *reviewPanel) refresh() {
	it := r.host.currentItem()
	if r.host.auditStore() == nil || it == nil || it.auditID == 0 {
		r.box.Hide()
		return
	}
	r.box.Show()
	rv := it.review
	switch {
	case rv != nil:
		when := rv.at.Format("15:04:05")
		if y, m, d := rv.at.Date(); !sameDay(y, m, d, time.Now()) {
			when = rv.at.Format("2006-01-02 15:04")
		}
		text := fmt.Sprintf("Operator: %s by %s at %s", rv.decision, rv.operator, when)
		if rv.reason != "" {
			text += "\nReason: " + rv.reason
		}
		r.info.SetText(text)
		r.info.Importance = decisionImportance(rv.decision)
	case it.auto == verdict.Review:
		r.info.SetText("Waiting for the operator: P = PASS, R = REJECT, N = next strip to review")
		r.info.Importance = widget.WarningImportance
	default:
		r.info.SetText(fmt.Sprintf("Recorded as automatic %s (audit #%d)", it.auto, it.auditID))
		r.info.Importance = widget.MediumImportance
	}
	r.info.TextStyle.Bold = rv != nil
	r.info.Refresh()
	// Only the actions this strip allows are offered.
	showIf(r.passBtn, it.needsReview())
	showIf(r.rejectBtn, it.needsReview())
	showIf(r.overrideBtn, rv == nil && it.auto != verdict.Review)
	if r.host.reviewCount() > 0 {
		r.nextBtn.Enable()
	} else {
		r.nextBtn.Disable()
	}
}

// undoLast takes back the last P, R or override made in this
// window (Ctrl+Z, Edit menu): the audit trail keeps the decision and adds
// its undo (audit.Store.Undo), and the strip waits for an operator again.
func (r *reviewPanel) undoLast() {
	h := r.host
	it := r.lastDecided
	if it == nil || it.review == nil || h.auditStore() == nil || h.topDialog() != nil {
		h.setStatus("Nothing to undo: no decision made in this window since it opened (or since the last undo).")
		return
	}
	id, op, store, ctx, undone := it.auditID, r.operator, h.auditStore(), h.lifetime(), it.review.decision
	if op == "" {
		op = it.review.operator
	}
	h.goBackground(func() func() {
		err := store.Undo(ctx, id, op)
		var filed refiled
		if err == nil {
			filed = refile(ctx, store, id, op) // a hot-folder strip goes back to its automatic folder
		}
		return func() {
			if err != nil {
				h.showError("Decision not undone", fmt.Sprintf("%s: %v", it.name, err))
				return
			}
			it.review, r.lastDecided = nil, nil
			h.decided(it)
			line := fmt.Sprintf("Undid %s on %s (recorded in the audit trail); it waits for a decision again.", undone, it.name)
			if moved := r.followFile(it, filed); moved != "" {
				line += " " + moved
			}
			h.setStatus(line)
		}
	})
}
