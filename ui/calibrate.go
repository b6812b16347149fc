package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/evaluate"
	"steelinspect/verdict"
)

// calibrateView is the supervisor's Calibrate window: a labelled folder is
// scored through the window's worker, then the two thresholds are chosen
// on a histogram of strip confidence with the outcome table beside it,
// and applied to the station through the sliders' own path. This file
// holds the screen and the pair chosen on it (the sliders, the outcome
// table, Suggest, Apply to station); calibratescore.go the scored set
// (loading and scoring a labelled folder, its progress, the plots).
type calibrateView struct {
	host calibrateHost
	win  fyne.Window
	keys dialogKeys

	// Scoring in progress: cancel stops it; run tells a stale result.
	cancel context.CancelFunc
	run    int

	// The scored set, once there is one.
	report     *evaluate.Report
	confidence []float64
	defective  []bool
	sweep      []evaluate.StripOutcome
	modelGen   int    // Inspector.modelGen the strips were scored with
	modelName  string // the model that scored them
	thresholds verdict.Thresholds
	outcome    evaluate.StripOutcome
	suggested  *evaluate.StripOutcome
	adjusting  bool // the sliders are being moved by code

	// messages records every message dialog shown, for tests.
	messages []string

	source                   *widget.Label
	openBtn, pairBtn         *widget.Button
	progress                 *widget.ProgressBar
	progressInfo             *widget.Label
	cancelBtn                *widget.Button
	progressBox              *fyne.Container
	summary                  *widget.Label
	hist                     *thresholdHistogram
	passSlider, rejectSlider *widget.Slider
	passValue, rejectValue   *widget.Label
	missed, falseAlarms      *widget.Label
	review, automation       *widget.Label
	cells                    [3][2]*widget.Label
	maxMissed                *widget.Entry
	suggestBtn               *widget.Button
	suggestion               *widget.Label
	side                     *fyne.Container // the right column, laid out again when its texts change
	applyBtn, plotsBtn       *widget.Button
	station                  *widget.Label
}

// calibrateHost is what the Calibrate screen uses of the station window,
// and nothing else: the worker to score with, the model and thresholds in
// force, and the way to apply a pair under the supervisor lock. The
// Inspector implements it (below).
type calibrateHost interface {
	screenHost
	scorer() workerAnalyzer
	model() (gen int, name string)
	stationThresholds() verdict.Thresholds
	applyThresholds(t verdict.Thresholds)
	isLocked() bool
	checkUser(name, password string, refuse func(title, msg string), then func())
	recordsAudit() bool
	setStatus(s string)
	onUI(f func())
}

func (i *Inspector) scorer() workerAnalyzer {
	return workerAnalyzer{work: i.work, manifest: i.models.manifest}
}
func (i *Inspector) model() (int, string)                  { return i.models.gen, i.modelName() }
func (i *Inspector) stationThresholds() verdict.Thresholds { return i.settings.Thresholds() }
func (i *Inspector) recordsAudit() bool                    { return i.store != nil }

// applyThresholds goes the way a slider move and its release go:
// the settings panel's SetThresholds, then Record for the audit trail.
func (i *Inspector) applyThresholds(t verdict.Thresholds) {
	i.settings.SetThresholds(t.Pass, t.Reject, true)
	i.settings.Record()
}

// showCalibrate opens the Calibrate window, or brings it forward.
func (i *Inspector) showCalibrate() {
	if i.calibrate != nil {
		i.calibrate.win.RequestFocus()
		return
	}
	if i.models.manifest == nil {
		i.showError("Cannot calibrate", "this window has no model to score strips with")
		return
	}
	c := &calibrateView{host: i, win: i.app.NewWindow(AppName + " – calibrate thresholds")}
	c.thresholds = i.settings.Thresholds()
	c.keys = dialogKeys{win: c.win}
	c.keys.listenOn()
	c.win.SetContent(c.build())
	c.win.Resize(i.withinMainWindow(fyne.NewSize(1240, 820)))
	c.win.CenterOnScreen() // over the main window, which fills the screen it is on
	c.win.SetOnClosed(func() {
		c.stop()
		if i.calibrate == c {
			i.calibrate = nil
		}
	})
	i.calibrate = c
	c.refresh()
	c.win.Show()
}

func (c *calibrateView) build() fyne.CanvasObject {
	c.source = widget.NewLabel("Choose a labelled folder: train_images/ and train.csv (Severstal layout).")
	c.source.Truncation = fyne.TextTruncateEllipsis
	c.openBtn = widget.NewButtonWithIcon("Labelled folder…", theme.FolderOpenIcon(), c.askFolder)
	c.openBtn.Importance = widget.HighImportance
	c.pairBtn = widget.NewButtonWithIcon("Images + CSV separately…", theme.FolderIcon(), c.askPair)
	c.progress = widget.NewProgressBar()
	c.progressInfo = widget.NewLabel("")
	c.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), c.stop)
	c.progressBox = container.NewHBox(sized(c.progress, 260), c.progressInfo, c.cancelBtn)
	c.progressBox.Hide()
	c.summary = widget.NewLabel("")
	c.summary.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(c.openBtn, c.pairBtn), c.source),
		c.progressBox, c.summary, widget.NewSeparator())

	c.hist = newThresholdHistogram(c.onLinesMoved)
	// The sliders and lines stay inside the station's own ranges: a pair
	// it cannot hold is never the working pair.
	c.passSlider = widget.NewSlider(passMin, passMax)
	c.passSlider.Step = thresholdStep
	c.passSlider.OnChanged = func(v float64) { c.onSlider(v, true) }
	c.rejectSlider = widget.NewSlider(rejectMin, rejectMax)
	c.rejectSlider.Step = thresholdStep
	c.rejectSlider.OnChanged = func(v float64) { c.onSlider(v, false) }
	c.passValue = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	c.rejectValue = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	sliderRow := func(z verdict.Zone, name string, s *widget.Slider, v *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil,
			container.NewHBox(swatchBox(zoneColor(z), 14), sized(widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), 110)),
			sized(v, 60), s)
	}
	legend := container.NewHBox(layout.NewSpacer(),
		swatchBox(histCleanColour(), 14), widget.NewLabel("defect-free strips"),
		swatchBox(histDefectColour(), 14), widget.NewLabel("defective strips"),
		widget.NewLabelWithStyle("Drag the lines, or use the sliders", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		layout.NewSpacer())
	left := container.NewBorder(
		heading("Strip confidence (highest patch probability)"),
		container.NewVBox(legend,
			sliderRow(verdict.ZoneAutoPass, "Auto-Pass", c.passSlider, c.passValue),
			sliderRow(verdict.ZoneAutoReject, "Auto-Reject", c.rejectSlider, c.rejectValue)),
		nil, nil, c.hist)

	station, buttons := c.buildApply()
	c.side = container.NewVBox(c.buildOutcome(), widget.NewSeparator(), c.buildSuggest(),
		widget.NewSeparator(), station)
	scroll := container.NewVScroll(c.side)
	scroll.SetMinSize(fyne.NewSize(440, 0))
	right := container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), buttons), nil, nil, scroll)
	body := container.NewBorder(nil, nil, nil, container.NewHBox(widget.NewSeparator(), right), container.NewPadded(left))
	return container.NewBorder(top, nil, nil, nil, body)
}

// buildOutcome is the live table at the chosen pair.
func (c *calibrateView) buildOutcome() fyne.CanvasObject {
	metric := func() *widget.Label {
		return widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
	}
	c.missed, c.falseAlarms, c.review, c.automation = metric(), metric(), metric(), metric()
	rows := container.New(layout.NewFormLayout(),
		widget.NewLabel("Missed (defective passed)"), c.missed,
		widget.NewLabel("False alarms (clean rejected)"), c.falseAlarms,
		widget.NewLabel("Sent to review"), c.review,
		widget.NewLabel("Automated"), c.automation)

	bold := fyne.TextStyle{Bold: true}
	grid := []fyne.CanvasObject{
		widget.NewLabelWithStyle("Decision \\ truth", fyne.TextAlignLeading, bold),
		widget.NewLabelWithStyle("defect-free", fyne.TextAlignTrailing, bold),
		widget.NewLabelWithStyle("defective", fyne.TextAlignTrailing, bold),
	}
	for d := verdict.Pass; d <= verdict.Reject; d++ {
		name := widget.NewLabelWithStyle(d.String(), fyne.TextAlignLeading, bold)
		name.Importance = decisionImportance(d)
		grid = append(grid, container.NewHBox(swatchBox(decisionColor(d), 12), name))
		for t := range 2 {
			c.cells[d][t] = metric()
			grid = append(grid, c.cells[d][t])
		}
	}
	return container.NewVBox(heading("Outcome at this pair"), rows, container.NewGridWithColumns(3, grid...))
}

// suggestHelp says what Suggest does, until it has been used.
const suggestHelp = "Suggest finds the pair that misses at most this many defective strips, rejects the fewest clean ones, then reviews the fewest."

// buildSuggest is the max-missed target and the Suggest button.
func (c *calibrateView) buildSuggest() fyne.CanvasObject {
	c.maxMissed = widget.NewEntry()
	c.maxMissed.SetText("0")
	c.maxMissed.Validator = func(s string) error {
		_, err := parseMaxMissed(s)
		return err
	}
	step := func(d int) func() {
		return func() {
			n, err := parseMaxMissed(c.maxMissed.Text)
			if err != nil {
				n = 0
			}
			c.maxMissed.SetText(strconv.Itoa(max(0, n+d)))
		}
	}
	minus := widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), step(-1))
	plus := widget.NewButtonWithIcon("", theme.ContentAddIcon(), step(+1))
	c.suggestBtn = widget.NewButtonWithIcon("Suggest", theme.SearchIcon(), c.onSuggest)
	c.suggestion = widget.NewLabel(suggestHelp)
	c.suggestion.Wrapping = fyne.TextWrapWord
	return container.NewVBox(heading("Suggest a pair"),
		container.NewHBox(widget.NewLabel("Max missed strips"), minus, sized(c.maxMissed, 70), plus, c.suggestBtn),
		c.suggestion)
}

// buildApply is what the station uses, and the Apply to station and Save
// plots buttons.
func (c *calibrateView) buildApply() (station, buttons fyne.CanvasObject) {
	c.applyBtn = widget.NewButtonWithIcon("Apply to station", theme.ConfirmIcon(), c.onApply)
	c.applyBtn.Importance = widget.HighImportance
	c.plotsBtn = widget.NewButtonWithIcon("Save plots…", theme.DocumentSaveIcon(), c.askPlots)
	c.station = widget.NewLabel("")
	c.station.Wrapping = fyne.TextWrapWord
	return container.NewVBox(heading("Station"), c.station), container.NewHBox(layout.NewSpacer(), c.plotsBtn, c.applyBtn)
}

func parseMaxMissed(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("a whole number of strips, 0 or more")
	}
	return n, nil
}

// onLinesMoved is the histogram's callback while a line is dragged.
func (c *calibrateView) onLinesMoved(pass, reject float64) {
	c.setPair(verdict.Thresholds{Pass: pass, Reject: reject})
}

// onSlider keeps pass below reject: the other threshold steps aside.
func (c *calibrateView) onSlider(v float64, pass bool) {
	if c.adjusting {
		return
	}
	t := c.thresholds
	v = round2(v)
	if pass {
		t.Pass = v
		if t.Pass >= t.Reject {
			t.Reject = round2(t.Pass + thresholdStep)
		}
	} else {
		t.Reject = v
		if t.Pass >= t.Reject {
			t.Pass = round2(t.Reject - thresholdStep)
		}
	}
	c.setPair(t)
}

// setPair moves both lines and sliders to t, held inside the station's
// ranges (fitThresholds), and recounts the outcome.
func (c *calibrateView) setPair(t verdict.Thresholds) {
	c.thresholds = fitThresholds(t)
	c.hist.setThresholds(c.thresholds.Pass, c.thresholds.Reject)
	c.adjusting = true
	c.passSlider.SetValue(c.thresholds.Pass)
	c.rejectSlider.SetValue(c.thresholds.Reject)
	c.adjusting = false
	c.passValue.SetText(fmt.Sprintf("%.2f", c.thresholds.Pass))
	c.rejectValue.SetText(fmt.Sprintf("%.2f", c.thresholds.Reject))
	c.outcome = evaluate.OutcomeAt(c.confidence, c.defective, c.thresholds)
	c.refreshOutcome()
	c.refreshStation()
}

func (c *calibrateView) refreshOutcome() {
	o := &c.outcome
	if c.report == nil {
		for _, l := range []*widget.Label{c.missed, c.falseAlarms, c.review, c.automation} {
			l.SetText("–")
		}
		for d := range c.cells {
			for t := range c.cells[d] {
				c.cells[d][t].SetText("–")
			}
		}
		return
	}
	c.missed.SetText(fmt.Sprintf("%d of %d (%s)", o.Missed, o.Defective, percent(o.MissedRate)))
	c.missed.Importance = importanceIf(o.Missed > 0, widget.DangerImportance)
	c.falseAlarms.SetText(fmt.Sprintf("%d of %d (%s)", o.FalseAlarms, o.Strips-o.Defective, percent(o.FalseAlarmRate)))
	c.falseAlarms.Importance = importanceIf(o.FalseAlarms > 0, widget.WarningImportance)
	c.review.SetText(fmt.Sprintf("%d of %d (%s)", o.Reviewed, o.Strips, percent(o.ReviewRate)))
	c.automation.SetText(percent(o.AutomationRate))
	for d := range c.cells {
		for t := range c.cells[d] {
			c.cells[d][t].SetText(strconv.Itoa(o.Table[d][t]))
		}
	}
	c.cells[verdict.Pass][1].Importance = importanceIf(o.Missed > 0, widget.DangerImportance)
	c.cells[verdict.Reject][0].Importance = importanceIf(o.FalseAlarms > 0, widget.WarningImportance)
	c.missed.Refresh()
	c.falseAlarms.Refresh()
	c.cells[verdict.Pass][1].Refresh()
	c.cells[verdict.Reject][0].Refresh()
}

func importanceIf(cond bool, imp widget.Importance) widget.Importance {
	if cond {
		return imp
	}
	return widget.MediumImportance
}

func percent(v float64) string { return fmt.Sprintf("%.1f %%", 100*v) }

// refreshStation says what the station uses and what Apply would do.
func (c *calibrateView) refreshStation() {
	cur := c.host.stationThresholds()
	text := fmt.Sprintf("The station uses Auto-Pass %.2f and Auto-Reject %.2f; its sliders accept pass %.2f–%.2f and reject %.2f–%.2f.",
		cur.Pass, cur.Reject, passMin, passMax, rejectMin, rejectMax)
	if c.host.isLocked() {
		text += " Settings are locked: Apply asks a supervisor to sign in."
	}
	if c.report != nil && c.modelChanged(c.modelGen) {
		text += fmt.Sprintf(" These scores are from %s; the station has switched models since, so score the set again before applying.", c.modelName)
	}
	c.station.SetText(text)
	c.side.Refresh()
}

func (c *calibrateView) refresh() {
	c.refreshOutcome()
	c.refreshStation()
	c.refreshButtons()
	if c.report == nil {
		c.setPair(c.thresholds)
	}
}

func (c *calibrateView) refreshButtons() {
	scoring := c.cancel != nil
	ready := c.report != nil && !scoring
	for _, b := range []*widget.Button{c.suggestBtn, c.applyBtn, c.plotsBtn} {
		if ready {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	for _, b := range []*widget.Button{c.openBtn, c.pairBtn} {
		if scoring {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// onSuggest moves the lines to evaluate.Suggest's pair for the target.
func (c *calibrateView) onSuggest() {
	if c.report == nil {
		return
	}
	n, err := parseMaxMissed(c.maxMissed.Text)
	if err != nil {
		c.showMessage("Max missed strips", err.Error())
		return
	}
	// Only pairs the station can hold are suggested; a better one outside
	// its ranges is mentioned, not offered.
	best, ok := evaluate.Suggest(withinStation(c.sweep), n)
	free, freeOK := evaluate.Suggest(c.sweep, n)
	ranges := fmt.Sprintf("the station's ranges (pass %.2f–%.2f, reject %.2f–%.2f)", passMin, passMax, rejectMin, rejectMax)
	if !ok {
		c.suggested = nil
		text := fmt.Sprintf("No pair within %s misses at most %d strip(s) on this set.", ranges, n)
		if freeOK {
			text += fmt.Sprintf("\nOutside them: %s; the station cannot use it.", describeOutcome(free))
		}
		c.suggestion.SetText(text)
		c.side.Refresh()
		return
	}
	c.suggested = &best
	c.setPair(best.Thresholds)
	text := fmt.Sprintf("Suggested for at most %d missed: %s.", n, describeOutcome(best))
	for _, caveat := range evaluate.Caveats(best) {
		text += "\nCaution: " + caveat + "."
	}
	if freeOK && free.Thresholds != best.Thresholds {
		text += fmt.Sprintf("\nOutside %s, %s; the station cannot use it.", ranges, describeOutcome(free))
	}
	c.suggestion.SetText(text)
	c.side.Refresh()
}

// withinStation keeps the pairs the station's sliders can hold.
func withinStation(sweep []evaluate.StripOutcome) []evaluate.StripOutcome {
	var within []evaluate.StripOutcome
	for _, o := range sweep {
		if fitThresholds(o.Thresholds) == o.Thresholds {
			within = append(within, o)
		}
	}
	return within
}

// describeOutcome is a pair and what it does, in a sentence.
func describeOutcome(o evaluate.StripOutcome) string {
	return fmt.Sprintf("pass %.2f, reject %.2f — missed %d (%s), false alarms %d (%s), review %s, automated %s",
		o.Thresholds.Pass, o.Thresholds.Reject, o.Missed, percent(o.MissedRate),
		o.FalseAlarms, percent(o.FalseAlarmRate), percent(o.ReviewRate), percent(o.AutomationRate))
}

// onApply sets the station's thresholds to the chosen pair through the
// sliders' path: refused while the supervisor lock is on (the PIN is
// asked for first), recorded in the audit trail when applied.
func (c *calibrateView) onApply() {
	if c.report == nil {
		return
	}
	if c.modelChanged(c.modelGen) {
		_, now := c.host.model()
		c.showMessage("Scores are out of date", fmt.Sprintf("These scores are from %s and the station now uses %s. Score the set again first.", c.modelName, now))
		return
	}
	// the working pair is always one the station holds (setPair)
	c.applyUnlocked(c.thresholds)
}

// applyUnlocked applies t, asking a supervisor to sign in first while
// locked.
func (c *calibrateView) applyUnlocked(t verdict.Thresholds) {
	if !c.host.isLocked() {
		c.apply(t)
		return
	}
	c.messages = append(c.messages, "Settings are locked: supervisor asked")
	name, password := newDialogEntry(false, false), newDialogEntry(true, false)
	d := c.keys.form("Settings are locked", "Unlock and apply", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Supervisor", name), widget.NewFormItem("Password", password)},
		func(ok bool) {
			if ok {
				c.unlockAndApply(name.Text, password.Text, t)
			}
		})
	d.Resize(fyne.NewSize(420, 200))
	d.Show()
	c.win.Canvas().Focus(name)
}

// unlockAndApply signs the supervisor in with the main window's check
// (checkUser), its refusals shown in this window, and applies the pair
// once unlocked.
func (c *calibrateView) unlockAndApply(name, password string, t verdict.Thresholds) {
	c.host.checkUser(name, password, func(title, msg string) {
		c.showMessage(title, msg+" The station's thresholds are unchanged.")
	}, func() { c.apply(t) })
}

// apply goes the way a slider move and its release go: the settings
// panel's SetThresholds, then Record for the audit trail.
func (c *calibrateView) apply(t verdict.Thresholds) {
	h := c.host
	if h.isLocked() {
		c.showMessage("Settings are locked", "The station's thresholds are unchanged.")
		return
	}
	old := h.stationThresholds()
	h.applyThresholds(t)
	now := h.stationThresholds()
	c.refreshStation()
	if now == old {
		c.station.SetText(c.station.Text + " This pair is already in use: nothing changed.")
		c.side.Refresh()
		return
	}
	recorded := ""
	if h.recordsAudit() {
		recorded = ", recorded in the audit trail"
	}
	defer c.side.Refresh()
	c.station.SetText(fmt.Sprintf("Applied: the station now uses Auto-Pass %.2f and Auto-Reject %.2f (was %.2f and %.2f)%s.",
		now.Pass, now.Reject, old.Pass, old.Reject, recorded))
	h.setStatus(fmt.Sprintf("Thresholds calibrated: pass %.2f, reject %.2f", now.Pass, now.Reject))
}

// showMessage shows a dialog in this window and records it for tests.
func (c *calibrateView) showMessage(title, msg string) {
	c.messages = append(c.messages, title+": "+msg)
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(text)
	scroll.SetMinSize(fyne.NewSize(560, min(float32(60+24*strings.Count(msg, "\n")), 380)))
	c.keys.message(title, scroll)
}
