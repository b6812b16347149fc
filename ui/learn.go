package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"steelinspect/learn"
	"steelinspect/verdict"
)

// "Learn from decisions…": the station learns its line from every strip a
// person decided (package learn, through Options.Learn). It shares the
// teach flow: the name asked for, learning in the background with progress
// and Cancel, then the report with Save and use or Discard.

// canLearn says whether the window offers "Learn from decisions…".
func (i *Inspector) canLearn() bool {
	return i.opts.Learn != nil && i.opts.Decided != nil && i.opts.ModelsDir != "" && i.opts.OpenModel != nil
}

// showLearn counts the decided strips in the trail, behind the
// supervisor's sign-in, then asks for the model's name.
func (i *Inspector) showLearn() {
	if !i.canLearn() || i.teach != nil {
		return
	}
	if i.isLocked() {
		i.askUnlock(i.showLearn)
		return
	}
	i.settings.touch()
	count := i.opts.Decided
	i.setStatus("Counting the decided strips in the audit trail…")
	i.goBackground(func() func() {
		n, err := count(i.ctx)
		return func() {
			i.refreshStatus()
			if err != nil {
				i.showError("Cannot read the audit trail", err.Error())
				return
			}
			i.askLearnName(n)
		}
	})
}

// decidedText says what the trail holds for learning, and what it lacks.
func decidedText(n map[verdict.Decision]int) (string, bool) {
	pass, reject := n[verdict.Pass], n[verdict.Reject]
	text := fmt.Sprintf("The audit trail holds %d strips a person passed and %d a person rejected "+
		"(a REVIEW decided with P or R, or an override). Automatic decisions nobody confirmed are not used.", pass, reject)
	switch {
	case pass < learn.MinEach || reject < learn.MinEach:
		return text + fmt.Sprintf(" Learning needs at least %d of each: %d more passed and %d more rejected.",
			learn.MinEach, max(0, learn.MinEach-pass), max(0, learn.MinEach-reject)), false
	case pass < learn.TrustEach || reject < learn.TrustEach:
		return text + fmt.Sprintf(" With fewer than %d of each, the figures it reports are too few to trust.", learn.TrustEach), true
	}
	return text, true
}

// askLearnName shows what the trail holds and asks for the model's name.
func (i *Inspector) askLearnName(n map[verdict.Decision]int) {
	if i.teach != nil {
		return
	}
	tv := &teachView{folder: "the operators' decisions", what: "Learning", made: "Learned", run: i.opts.Learn}
	held, enough := decidedText(n)
	trail := widget.NewLabel(held)
	trail.Wrapping = fyne.TextWrapWord
	i.askModelName(tv, modelAsk{title: "Learn from decisions", name: "station-line", sourceHead: "Decided strips",
		source: trail, start: "Learn", allowed: enough,
		about: "Learning reads each decided strip's archived copy, checked against the trail, and learns " +
			"what a defect on this line looks like. It reports how it does on strips it was not learned on; nothing is " +
			"saved until you say so."})
}
