package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/teach"
)

// teachView is one run of "Teach good steel…": the name asked for, the
// progress dialog while teaching runs in the background, then the report
// with Save and use or Discard. It belongs to the UI goroutine.
type teachView struct {
	folder, name string
	// what is "Teaching" or "Learning", made "Taught" or "Learned" when
	// done; run makes the model, with the report's lines when it has
	// its own (learning), nil for teach's.
	what, made string
	run        func(ctx context.Context, name string, progress func(teach.Progress)) (*teach.Result, []string, error)
	lines      []string

	// Asking for the name.
	ask      *dialog.CustomDialog
	nameIn   *dialogEntry
	nameHint *widget.Label
	startBtn *widget.Button

	// Teaching.
	cancel    context.CancelFunc
	cancelled bool
	progress  *dialog.CustomDialog
	stage     *widget.Label
	bar       *widget.ProgressBar
	done      int // the stage's steps done of total
	total     int
	times     *widget.Label
	cancelBtn *widget.Button

	// The report.
	result     *teach.Result
	report     *dialog.CustomDialog
	summary    []string
	leftOut    *widget.Label
	saveBtn    *widget.Button
	discardBtn *widget.Button
}

// canTeach says whether the window offers "Teach good steel…".
func (i *Inspector) canTeach() bool {
	return i.opts.Teach != nil && i.opts.ModelsDir != "" && i.opts.OpenModel != nil
}

// showTeach starts "Teach good steel…": the supervisor picks a folder of
// defect-free strips, then names the model.
func (i *Inspector) showTeach() {
	if !i.canTeach() || i.teach != nil {
		return
	}
	if i.isLocked() {
		i.askUnlock(i.showTeach)
		return
	}
	i.settings.touch()
	pickFolder(&i.keys, i.app.Preferences(), func(err error) { i.showError("Cannot open folder", err.Error()) },
		func(path string) {
			i.app.Preferences().SetString(prefLastDir, path)
			i.askTeachName(path)
		})
}

// askTeachName asks for the new model's name, offering the default one.
func (i *Inspector) askTeachName(folder string) {
	if i.teach != nil {
		return
	}
	tv := &teachView{folder: folder, what: "Teaching", made: "Taught",
		run: func(ctx context.Context, name string, progress func(teach.Progress)) (*teach.Result, []string, error) {
			res, err := i.opts.Teach(ctx, folder, name, progress)
			return res, nil, err
		}}
	where := widget.NewLabel(folder)
	where.Wrapping = fyne.TextWrapBreak
	about := fmt.Sprintf("Teaching reads every image in the folder and its subfolders: at least %d "+
		"defect-free strips of this line, all of one size. A fifth of them is held out to test the model. "+
		"It takes a few seconds to a minute; nothing is saved until you say so.", teach.MinGoodStrips)
	i.askModelName(tv, modelAsk{title: "Teach good steel", name: teach.DefaultName(folder), sourceHead: "Good strips",
		source: where, about: about, start: "Teach", allowed: true})
}

// modelAsk is what the dialog before teaching or learning says.
type modelAsk struct {
	title, name, sourceHead string
	source                  fyne.CanvasObject
	about, start            string
	// allowed is false when what there is to learn from is too little:
	// the start button stays disabled.
	allowed bool
}

// askModelName shows the dialog that names the model before teaching or
// learning: where it learns from, the name with its hint, and the
// buttons (Enter starts, Esc gives up).
func (i *Inspector) askModelName(tv *teachView, a modelAsk) {
	i.teach = tv
	tv.nameIn = newDialogEntry(false, false)
	tv.nameIn.SetText(a.name)
	tv.nameHint = widget.NewLabel("")
	tv.nameHint.Wrapping = fyne.TextWrapWord
	tv.nameHint.Importance = widget.LowImportance
	about := widget.NewLabel(a.about)
	about.Wrapping = fyne.TextWrapWord
	form := container.New(&fixedWidth{width: 560}, container.NewVBox(
		widget.NewLabelWithStyle(a.sourceHead, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), a.source,
		widget.NewLabelWithStyle("Model name", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), tv.nameIn,
		tv.nameHint, about))
	giveUp := func() {
		tv.ask.Hide()
		i.teach = nil
		i.refreshLock()
	}
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), giveUp)
	startNow := func() {
		if !tv.startBtn.Disabled() {
			i.startTeach(tv)
		}
	}
	tv.startBtn = widget.NewButtonWithIcon(a.start, theme.ConfirmIcon(), startNow)
	tv.startBtn.Importance = widget.HighImportance
	tv.nameIn.OnChanged = func(string) {
		i.checkTeachName(tv)
		if !a.allowed {
			tv.startBtn.Disable()
		}
	}
	tv.nameIn.OnSubmitted = func(string) { startNow() }
	tv.nameIn.onEsc = giveUp
	tv.nameIn.OnChanged(tv.nameIn.Text)
	tv.ask = dialog.NewCustomWithoutButtons(a.title, form, i.win)
	tv.ask.SetButtons([]fyne.CanvasObject{cancel, tv.startBtn})
	i.trackDialog(tv.ask, startNow, giveUp)
	tv.ask.Show()
	i.win.Canvas().Focus(tv.nameIn)
	i.refreshLock()
}

// checkTeachName says whether the name typed can name a model file and
// whether one of that name is already in the models folder.
func (i *Inspector) checkTeachName(tv *teachView) {
	name := strings.TrimSpace(tv.nameIn.Text)
	switch {
	case name == "":
		tv.nameHint.SetText("Give the model a name.")
		tv.startBtn.Disable()
	case teach.SafeName(name) != name:
		tv.nameHint.SetText("Use letters, digits, '-', '_' and '.' only (it names the model's files).")
		tv.startBtn.Disable()
	default:
		hint := "Saved in " + i.opts.ModelsDir + " when you choose Save and use."
		if _, err := os.Stat(teach.ManifestPath(i.opts.ModelsDir, name)); err == nil {
			hint = "A model of this name is already in " + i.opts.ModelsDir + ": saving will ask before replacing it."
		}
		tv.nameHint.SetText(hint)
		tv.startBtn.Enable()
	}
}

// startTeach teaches in the background behind a progress dialog with
// Cancel. Teaching opens its own engines, so the station keeps
// inspecting meanwhile.
func (i *Inspector) startTeach(tv *teachView) {
	if i.teach != tv || tv.cancel != nil {
		return
	}
	if tv.nameIn != nil {
		tv.name = strings.TrimSpace(tv.nameIn.Text)
	}
	if tv.ask != nil {
		tv.ask.Hide()
	}
	ctx, cancel := context.WithCancel(i.ctx)
	tv.cancel = cancel
	tv.stage = widget.NewLabelWithStyle("Starting…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	tv.bar = widget.NewProgressBar()
	// The bar shows the stage's own steps: stages differ in what they count.
	tv.bar.TextFormatter = func() string { return fmt.Sprintf("%d / %d", tv.done, tv.total) }
	tv.times = widget.NewLabel("Elapsed 0:00 · estimating the time left…")
	from := widget.NewLabel(fmt.Sprintf("%s %s from %s", tv.what, tv.name, tv.folder))
	from.Wrapping = fyne.TextWrapBreak
	tv.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { i.cancelTeach(tv) })
	content := container.New(&fixedWidth{width: 520}, container.NewVBox(from, tv.stage, tv.bar, tv.times))
	tv.progress = dialog.NewCustomWithoutButtons(tv.what+" "+tv.name, content, i.win)
	tv.progress.SetButtons([]fyne.CanvasObject{tv.cancelBtn})
	// Esc cancels teaching; Enter does nothing while it runs
	i.trackDialog(tv.progress, func() {}, func() { i.cancelTeach(tv) })
	tv.progress.Show()
	i.setStatus(tv.what + " " + tv.name + "…")

	run, name := tv.run, tv.name
	i.goBackground(func() func() {
		defer cancel()
		res, lines, err := run(ctx, name, func(p teach.Progress) {
			i.do(func() { i.showTeachProgress(tv, p) })
		})
		return func() {
			tv.lines = lines
			i.teachDone(tv, res, err)
		}
	})
}

// showTeachProgress shows one step of teaching.
func (i *Inspector) showTeachProgress(tv *teachView, p teach.Progress) {
	if i.teach != tv || tv.cancelled || tv.result != nil {
		return
	}
	tv.stage.SetText(p.Stage)
	if p.Total > 0 {
		tv.done, tv.total = p.Done, p.Total
		tv.bar.SetValue(float64(p.Done) / float64(p.Total))
	}
	left := "estimating the time left…"
	if p.Left > 0 {
		left = "about " + clock(p.Left) + " left"
	}
	tv.times.SetText(fmt.Sprintf("Elapsed %s · %s", clock(p.Elapsed), left))
}

// cancelTeach stops teaching; nothing has been written.
func (i *Inspector) cancelTeach(tv *teachView) {
	if tv.cancel == nil || tv.cancelled {
		return
	}
	tv.cancelled = true
	tv.cancel()
	tv.stage.SetText("Cancelling…")
	tv.cancelBtn.Disable()
}

// teachDone shows how teaching ended: the report, why it failed, or that
// it was cancelled.
func (i *Inspector) teachDone(tv *teachView, res *teach.Result, err error) {
	if i.teach != tv {
		return
	}
	tv.progress.Hide()
	if i.ctx.Err() != nil {
		return // the window is closing
	}
	i.refreshStatus()
	switch {
	case tv.cancelled || errors.Is(err, context.Canceled):
		i.teach = nil
		i.showMessage(tv.what+" cancelled", fmt.Sprintf("%s %s was cancelled: nothing was saved. The station still uses %s.",
			tv.what, tv.name, i.modelName()))
	case err != nil:
		i.teach = nil
		i.showError(tv.what+" failed", err.Error())
	case res == nil:
		i.teach = nil
		i.showError(tv.what+" failed", "it gave no model")
	default:
		tv.result = res
		i.showTeachReport(tv)
	}
	i.refreshLock()
}

// showTeachReport says in plain words what teaching measured, lists the
// files it left out, and offers Save and use or Discard.
func (i *Inspector) showTeachReport(tv *teachView) {
	rep := tv.result.Report
	tv.summary = tv.lines
	if tv.lines == nil {
		tv.summary = teachSummary(rep, tv.result.Manifest.DefaultThresholds.Pass)
	}
	rows := []fyne.CanvasObject{}
	for k, line := range tv.summary {
		l := widget.NewLabel(line)
		l.Wrapping = fyne.TextWrapWord
		if k == 2 && tv.lines == nil { // the share of new good strips expected to auto-pass
			l.TextStyle = fyne.TextStyle{Bold: true}
			l.Importance = widget.SuccessImportance
			if rep.NewGoodPassShare < 0.9 {
				l.Importance = widget.WarningImportance
			}
		}
		rows = append(rows, l)
	}
	if tv.lines == nil {
		tv.leftOut = widget.NewLabel(leftOutText(rep))
		tv.leftOut.Wrapping = fyne.TextWrapBreak
		tv.leftOut.TextStyle = fyne.TextStyle{Monospace: true}
		files := container.NewVScroll(tv.leftOut)
		files.SetMinSize(fyne.NewSize(0, 96))
		head := fmt.Sprintf("Files left out (%d unreadable, %d unlike the others)", len(rep.Unreadable), len(rep.Flagged))
		rows = append(rows, widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), files)
	}
	note := widget.NewLabel("Save and use saves the model in " + i.opts.ModelsDir +
		" and switches the station to it (recorded in the audit trail); the model in use stays one click away. " +
		"Discard throws it away.")
	note.Wrapping = fyne.TextWrapWord
	rows = append(rows, note)
	content := container.New(&fixedWidth{width: 640}, container.NewVBox(rows...))

	discard := func() {
		if tv.discardBtn.Disabled() {
			return
		}
		tv.report.Hide()
		i.teach = nil
		i.refreshLock()
	}
	save := func() {
		if !tv.saveBtn.Disabled() {
			i.saveTaught(tv, false)
		}
	}
	tv.discardBtn = widget.NewButtonWithIcon("Discard", theme.DeleteIcon(), discard)
	tv.saveBtn = widget.NewButtonWithIcon("Save and use", theme.DocumentSaveIcon(), save)
	tv.saveBtn.Importance = widget.HighImportance
	tv.report = dialog.NewCustomWithoutButtons(tv.made+" "+tv.result.Manifest.Name, content, i.win)
	tv.report.SetButtons([]fyne.CanvasObject{tv.discardBtn, tv.saveBtn})
	// Enter saves and uses the model, Esc discards it: both as the buttons
	i.trackDialog(tv.report, save, discard)
	tv.report.Show()
}

// teachSummary is the report in plain words, one line each: what was
// taught, how the held-out strips fare, the share of new good strips
// expected to auto-pass (third), the probability spread, the bank.
func teachSummary(rep teach.Report, pass float64) []string {
	left := len(rep.Unreadable) + len(rep.Flagged)
	return []string{
		fmt.Sprintf("Taught on %d good strips of %d×%d px from %s (%d image files found, %d left out).",
			rep.Taught, rep.Width, rep.Height, rep.Folder, rep.Found, left),
		fmt.Sprintf("%d good strips were held out to test it. At the model's default thresholds %s of them would be "+
			"auto-passed, %s sent to review and %s rejected.",
			len(rep.HeldOut), percent(rep.PassShare), percent(rep.ReviewShare), percent(rep.RejectShare)),
		fmt.Sprintf("New good strips expected to auto-pass: %s (each held-out strip judged by a model fitted on the others).",
			percent(rep.NewGoodPassShare)),
		fmt.Sprintf("Defect probability of the held-out strips: lowest %.3f, median %.3f, highest %.3f "+
			"(auto-pass below %.2f).", rep.ProbabilityMin, rep.ProbabilityMedian, rep.ProbabilityMax, pass),
		fmt.Sprintf("Memory bank: %d cell features, %s in memory. Taught in %s.",
			rep.BankRows, humanBytes(int(rep.BankBytes)), rep.Duration.Round(100*time.Millisecond)),
	}
}

// leftOutText lists the files teaching left out, with why.
func leftOutText(rep teach.Report) string {
	if len(rep.Unreadable)+len(rep.Flagged) == 0 {
		return "None: every image file was read and taught on or held out."
	}
	var b strings.Builder
	list := func(what string, s []teach.Skipped) {
		for _, f := range s {
			name := f.Path
			if rel, err := filepath.Rel(rep.Folder, f.Path); err == nil && !strings.HasPrefix(rel, "..") {
				name = rel
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "%s  %s: %s", what, name, f.Reason)
		}
	}
	list("unreadable", rep.Unreadable)
	list("unlike    ", rep.Flagged)
	return b.String()
}

// clock writes a duration as m:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// saveTaught writes the taught model into the models folder and switches
// the station to it through openModel, which records the switch.
func (i *Inspector) saveTaught(tv *teachView, overwrite bool) {
	if i.teach != tv || tv.result == nil {
		return
	}
	if i.isLocked() {
		i.askUnlock(func() { i.saveTaught(tv, overwrite) })
		return
	}
	dir := i.opts.ModelsDir
	path := teach.ManifestPath(dir, tv.result.Manifest.Name)
	if _, err := os.Stat(path); err == nil && !overwrite {
		d := dialog.NewConfirm("Replace model?", fmt.Sprintf("%s already holds a model named %s. Replace it with the one just taught?",
			dir, tv.result.Manifest.Name), func(ok bool) {
			if ok {
				i.saveTaught(tv, true)
			}
		}, i.win)
		i.trackDialog(d, func() { d.Hide(); i.saveTaught(tv, true) }, d.Hide)
		d.Show()
		return
	}
	tv.saveBtn.Disable()
	tv.discardBtn.Disable()
	res := tv.result
	i.goBackground(func() func() {
		saved, err := "", os.MkdirAll(dir, 0o755)
		if err == nil {
			saved, err = res.Save(path, overwrite)
		}
		return func() {
			if err != nil {
				tv.saveBtn.Enable()
				tv.discardBtn.Enable()
				i.showError("Cannot save the model", err.Error())
				return
			}
			tv.report.Hide()
			i.teach = nil
			i.refreshLock()
			i.openModel(saved)
		}
	})
}

// backBtnTextWidth is the most text the Back button shows in the model
// panel.
const backBtnTextWidth = 180

// fitText shortens s with an ellipsis until it fits width at the
// theme's text size.
func fitText(s string, width float32) string {
	size := theme.TextSize()
	if fyne.MeasureText(s, size, fyne.TextStyle{}).Width <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 1 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; fyne.MeasureText(t, size, fyne.TextStyle{}).Width <= width {
			return t
		}
	}
	return s
}

// showMessage tells the user something that is not an error.
func (i *Inspector) showMessage(title, msg string) {
	i.messagesShown = append(i.messagesShown, title+": "+msg)
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	i.keys.message(title, container.New(&fixedWidth{width: 480}, text))
}
