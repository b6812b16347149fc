package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// The result card never contradicts itself: its headline is the decision
// in force (the recorded one, or a person's over it), and the line of
// advice beneath follows the headline, not what the current model and
// thresholds would give now (that is said in the line above, with
// Re-inspect with the current model to record it).

const reinspectLabel = "Re-inspect with the current model"

// resultCard is the result column's card: the decision headline with its
// defect score and confidence, the line of advice, Re-inspect with the
// current model, the operator's actions (reviewPanel's box, on it), the
// metrics and the zone breakdown beside it and the lines over it (the
// model not validated on this line, learning again suggested). It shows
// the strip in view, which it asks the window for through cardHost, and
// holds nothing of its own but its widgets. It belongs to the UI
// goroutine.
type resultCard struct {
	host cardHost

	frame        *canvas.Rectangle // the card's background, in the decision's colour
	notValidated *widget.Label     // the model in use was not checked on this line (signoff.go)
	driftLine    *widget.Label     // learning again is suggested (drift.go)
	decision     *canvas.Text
	confidence   *canvas.Text
	level        *widget.Label
	action       *widget.Label
	reinspect    *widget.Button // Re-inspect with the current model
	maxProb      *widget.Label
	meanProb     *widget.Label
	patchCount   *widget.Label
	zoneCount    [3]*widget.Label
	zonePercent  [3]*widget.Label
	zoneBar      [3]*canvas.Rectangle
	zoneBarTrack [3]*fyne.Container
	results      *fyne.Container
}

// cardHost is what the result card needs of the window. The Inspector
// implements it.
type cardHost interface {
	// shown is the strip in view: its item, its analysis and its verdict
	// at the thresholds in force (nils when none).
	shown() (*item, *inference.Analysis, *verdict.Verdict)
	// reinspectCurrent inspects the strip in view again, recorded anew.
	reinspectCurrent()
	// onUI runs f on the UI goroutine.
	onUI(f func())
}

func newResultCard(host cardHost) *resultCard { return &resultCard{host: host} }

// build makes the card, the metrics and the zone breakdown beside it,
// the lines over them and details (the patch table) under them; review
// (the operator's actions) goes on the card.
func (c *resultCard) build(review, details fyne.CanvasObject) fyne.CanvasObject {
	w := c
	w.decision = canvas.NewText("NO IMAGE", theme.Color(theme.ColorNameDisabled))
	w.decision.TextSize = 46
	w.decision.TextStyle = fyne.TextStyle{Bold: true}
	w.decision.Alignment = fyne.TextAlignCenter
	w.confidence = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	w.confidence.TextSize = 22
	w.confidence.TextStyle = fyne.TextStyle{Bold: true}
	w.confidence.Alignment = fyne.TextAlignCenter
	w.level = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	w.level.Wrapping = fyne.TextWrapWord // "Recorded as REVIEW; would be PASS now…" took the window past the screen
	w.action = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	w.action.Wrapping = fyne.TextWrapWord
	w.reinspect = widget.NewButtonWithIcon(reinspectLabel, theme.ViewRefreshIcon(), c.host.reinspectCurrent)
	w.reinspect.Hide()
	w.frame = canvas.NewRectangle(color.Transparent)
	w.frame.CornerRadius = 10
	w.frame.StrokeWidth = 3
	card := container.NewStack(w.frame, container.NewPadded(container.NewVBox(layout.NewSpacer(),
		w.decision, w.confidence, w.level, w.action, w.reinspect, review, layout.NewSpacer())))

	w.maxProb = valueLabel()
	w.meanProb = valueLabel()
	w.patchCount = valueLabel()
	metrics := container.NewVBox(heading("Metrics"),
		container.New(layout.NewFormLayout(),
			widget.NewLabel("Max probability"), w.maxProb,
			widget.NewLabel("Mean probability"), w.meanProb,
			widget.NewLabel("Patches"), w.patchCount))

	zoneNames := [3]string{"Auto-Pass", "Manual Review", "Auto-Reject"}
	zones := container.NewVBox(heading("Zone breakdown"))
	for z := range 3 {
		w.zoneCount[z] = valueLabel()
		w.zonePercent[z] = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		w.zoneBar[z] = canvas.NewRectangle(zoneColor(verdict.Zone(z)))
		w.zoneBar[z].CornerRadius = 3
		track := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
		track.CornerRadius = 3
		w.zoneBarTrack[z] = container.New(&barLayout{}, track, w.zoneBar[z])
		name := container.NewHBox(swatchBox(zoneColor(verdict.Zone(z)), 14), widget.NewLabel(zoneNames[z]))
		zones.Add(container.NewBorder(nil, nil, name,
			container.NewHBox(w.zoneCount[z], w.zonePercent[z]), w.zoneBarTrack[z]))
	}

	beside := &cardBeside{wide: true}
	top := container.New(beside, card,
		container.NewPadded(container.NewVBox(metrics, widget.NewSeparator(), zones)))
	// The open patch table takes the height left under the card and
	// scrolls inside itself; on a short screen (1280×720) the results
	// scroll as a whole instead of setting the window's minimum height.
	w.notValidated = widget.NewLabelWithStyle(notValidatedText, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.notValidated.Wrapping = fyne.TextWrapWord
	w.notValidated.Importance = widget.WarningImportance
	w.notValidated.Hide() // until the trail says (refreshValidation)
	w.driftLine = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.driftLine.Wrapping = fyne.TextWrapWord
	w.driftLine.Importance = widget.WarningImportance
	w.driftLine.Hide()
	w.results = container.NewBorder(container.NewVBox(w.notValidated, w.driftLine, top), nil, nil, nil, details)
	// the card's figures moved under it (or back): the results take the new height
	beside.changed = func() { c.host.onUI(w.results.Refresh) }
	return container.NewVScroll(w.results)
}

// refresh fills the card, the metrics and the zone breakdown from the
// strip in view and its verdict.
func (c *resultCard) refresh() {
	w := c
	it, a, v := c.host.shown()
	if v == nil {
		w.decision.Text = "NO IMAGE"
		w.decision.Color = theme.Color(theme.ColorNameDisabled)
		w.confidence.Text = "Open a strip to inspect it"
		w.level.SetText("")
		w.action.SetText("")
		w.reinspect.Hide()
		w.frame.FillColor = color.Transparent
		w.frame.StrokeColor = theme.Color(theme.ColorNameSeparator)
		for _, l := range []*widget.Label{w.maxProb, w.meanProb, w.patchCount} {
			l.SetText("–")
		}
		for z := range 3 {
			w.zoneCount[z].SetText("–")
			w.zonePercent[z].SetText("")
			w.zoneBarTrack[z].Objects[1].(*canvas.Rectangle).Hide()
		}
	} else {
		final, note := disposition(it, v)
		col := decisionColor(final)
		w.decision.Text = final.String()
		w.decision.Color = col
		score, level := scoreLines(v)
		w.confidence.Text = score + likelyClassText(a, v)
		w.level.SetText(level + note)
		action, of := cardAction(it, final, v)
		w.action.SetText(action)
		w.action.Importance = decisionImportance(of)
		w.action.Refresh()
		c.refreshReinspect(it, v)
		fill := col
		fill.A = 0x30
		w.frame.FillColor = fill
		w.frame.StrokeColor = col
		w.maxProb.SetText(fmt.Sprintf("%.1f %%", 100*v.Confidence))
		w.meanProb.SetText(fmt.Sprintf("%.1f %%", 100*v.MeanProbability))
		w.patchCount.SetText(fmt.Sprintf("%d", len(v.Zones)))
		counts := [3]int{v.Counts.AutoPass, v.Counts.ManualReview, v.Counts.AutoReject}
		pct := [3]float64{v.Percents.AutoPass, v.Percents.ManualReview, v.Percents.AutoReject}
		for z := range 3 {
			w.zoneCount[z].SetText(fmt.Sprintf("%d", counts[z]))
			w.zonePercent[z].SetText(fmt.Sprintf("%5.1f %%", pct[z]))
			bar := w.zoneBarTrack[z]
			bar.Layout.(*barLayout).share = float32(pct[z] / 100)
			bar.Objects[1].(*canvas.Rectangle).Show()
			bar.Refresh()
		}
	}
	w.decision.Refresh()
	w.confidence.Refresh()
	w.frame.Refresh()
}

// disposition is a strip's headline decision and what the card
// says beneath it: once a strip is recorded, its recorded automatic
// decision, or the operator's over it (verdict.Final); a threshold moved
// since never relabels it, the card only says what the current thresholds
// would give. Without an audit record (--no-audit), the verdict at the
// current thresholds.
func disposition(it *item, v *verdict.Verdict) (verdict.Decision, string) {
	if it == nil || it.auditID == 0 {
		return v.Decision, "" // not recorded (no audit trail): the thresholds decide live
	}
	recorded := it.auto
	var note string
	final := it.final()
	if final != recorded {
		note += fmt.Sprintf("\nAutomatic decision: %s, overridden by %s", recorded, it.review.operator)
	}
	if v.Decision != recorded {
		note += fmt.Sprintf("\nRecorded as %s; would be %s now (current model and thresholds)", recorded, v.Decision)
	}
	return final, note
}

// cardAction is the card's line of advice for strip it whose decision in
// force is final, and the decision it speaks for: the live recommendation
// while it agrees; a person's decision in their name; else the recorded
// automatic decision's advice.
func cardAction(it *item, final verdict.Decision, v *verdict.Verdict) (string, verdict.Decision) {
	if final == v.Decision {
		return v.Recommendation, v.Decision
	}
	if it != nil && it.review != nil {
		switch final {
		case verdict.Pass:
			return "Passed by " + it.review.operator + ": the strip goes on", final
		case verdict.Reject:
			return "Rejected by " + it.review.operator + ": take the strip off the line", final
		}
	}
	return final.Action(), final
}

// refreshReinspect offers Re-inspect with the current model when the
// shown strip's recorded automatic decision is not what the current model
// and thresholds give, and it is not waiting for a person (a REVIEW
// waiting is decided with P or R: inspecting it again would leave the
// waiting one in the trail).
func (c *resultCard) refreshReinspect(it *item, v *verdict.Verdict) {
	if it == nil || it.auditID == 0 || it.needsReview() || v.Decision == it.auto {
		c.reinspect.Hide()
		return
	}
	c.reinspect.SetText(fmt.Sprintf("%s (%s)", reinspectLabel, v.Decision))
	c.reinspect.Show()
}

// likelyClassText names the strip's most likely defect class after its
// score (" · most likely class 3, 2 patches"), for a station model that
// gives classes; "" otherwise.
func likelyClassText(a *inference.Analysis, v *verdict.Verdict) string {
	if a == nil || v == nil {
		return ""
	}
	class, n := verdict.LikelyClass(a.Patches, v.Zones)
	switch {
	case class == "":
		return ""
	case n == 1:
		return " · most likely " + class
	}
	return fmt.Sprintf(" · most likely %s, %d patches", class, n)
}

// scoreIsAGuess says whether v's scores are a guess: a caution (not steel
// the model knows, or not a usable picture) sent the strip to REVIEW.
// The card, run mode, the heatmap (asGuess), the patch caption and the
// patch table all word and colour it so.
func scoreIsAGuess(v *verdict.Verdict) bool { return len(v.Cautions) > 0 }

// scoreLines words the card's score and its confidence. On a strip with a
// caution (not steel the model knows, or not a usable picture) the model's
// score is a guess, and the card says so rather than show a confident
// "Defect score 99.8 %" on clean steel of an unknown line.
func scoreLines(v *verdict.Verdict) (score, level string) {
	score = fmt.Sprintf("Defect score %.1f %%", 100*v.Confidence)
	if scoreIsAGuess(v) {
		return score + " · a guess", "No confidence: see the reason below"
	}
	return score, v.ConfidenceLevel + " confidence"
}
