package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"steelinspect/evaluate"
	"steelinspect/station"
)

// The sign-off: before a model goes live on a station with a trail
// (Open model…, Save and use after teach or learn, Back), it is scored on
// the station's check set beside the model in use (station.CheckSet), and
// the supervisor switches with the figures in front of them; without a
// check set the dialog says that its defect recall is unknown and the
// switch needs that confirmed. The figures, or their absence, are
// recorded with the switch, and while the model in use has no checked
// sign-off the window says, under the strip, that it is not validated on
// this line.

// notValidatedText is the permanent line shown while the model in use
// was not checked on this line's labelled strips.
const notValidatedText = "Not validated on this line: its defect recall here is unknown. Teach good steel…, " +
	"Learn from decisions… or Calibrate… fit the station to this line; a check set checks every model before it goes live."

// modelCheck is what the check set said of a model about to go live.
type modelCheck struct {
	set         *station.CheckSet // nil: no check set registered
	next, inUse *evaluate.Report
	err         error
}

// checkModel scores next, and the model in use, on the station's check
// set at the thresholds in force. It runs as a job on the worker's
// goroutine (the model in use belongs to it).
func (i *Inspector) checkModel(next Analyzer) modelCheck {
	if i.store == nil {
		return modelCheck{}
	}
	cs, err := station.RegisteredCheckSet(i.ctx, i.store)
	if err != nil || cs == nil {
		return modelCheck{set: cs, err: err}
	}
	c := modelCheck{set: cs}
	t := i.work.currentThresholds()
	if c.next, c.err = cs.Check(i.ctx, next, t); c.err != nil {
		return c
	}
	if i.work.model != nil {
		c.inUse, c.err = cs.Check(i.ctx, i.work.model, t)
	}
	return c
}

// figures is what the sign-off records: the new model's figures on the
// check set, "" when it was not checked.
func (c modelCheck) figures() string {
	if c.next == nil || c.err != nil {
		return ""
	}
	return station.CheckFigures(c.next)
}

// confirmModel asks the supervisor to switch to next with what the check
// found (on the UI goroutine); switchTo runs on yes, next is closed on no.
// Without a trail there is nothing to sign off: it switches at once.
func (i *Inspector) confirmModel(next Analyzer, c modelCheck, switchTo func(figures string)) {
	if i.store == nil {
		switchTo("")
		return
	}
	name := fmt.Sprintf("%s %s", next.Manifest().Name, next.Manifest().Version)
	var msg []string
	confirm := "Switch without a check"
	switch {
	case c.err != nil:
		msg = append(msg, "The check on the station's check set failed: "+c.err.Error(), name+": "+station.Unchecked+".")
	case c.set == nil:
		msg = append(msg, name+": "+station.Unchecked+".",
			"Register this line's labelled strips as the station's check set (steelinspect checkset set DIR) "+
				"to see its missed defects, clean strips rejected and review share beside the model in use before it goes live.")
	default:
		confirm = "Switch to " + name
		msg = append(msg, fmt.Sprintf("On the check set %s (%d strips, %d defective), at pass %.2f / reject %.2f:",
			c.set.Dir, c.next.Strip.Strips, c.next.Strip.Defective, c.next.Thresholds.Pass, c.next.Thresholds.Reject),
			"  new   "+name+": "+station.CheckFigures(c.next))
		if c.inUse != nil {
			msg = append(msg, "  in use "+i.modelName()+": "+station.CheckFigures(c.inUse))
			if c.next.Strip.Missed > c.inUse.Strip.Missed {
				msg = append(msg, fmt.Sprintf("The new model auto-passes %d more defective strips than the model in use.",
					c.next.Strip.Missed-c.inUse.Strip.Missed))
			}
		}
	}
	msg = append(msg, "The switch is recorded in the audit trail with these figures.")
	text := strings.Join(msg, "\n\n")
	i.messagesShown = append(i.messagesShown, "Before switching: "+text)
	label := widget.NewLabel(text)
	label.Wrapping = fyne.TextWrapWord
	// the first answer counts: hiding the dialog also calls back with "no"
	answered := false
	yes := func() {
		if !answered {
			answered = true
			switchTo(c.figures())
		}
	}
	no := func() {
		if !answered {
			answered = true
			next.Close()
			i.setStatus("Still using " + i.modelName())
		}
	}
	d := dialog.NewCustomConfirm("Before "+name+" goes live", confirm, "Keep "+i.modelName(),
		container.NewVScroll(container.New(&fixedWidth{width: 640}, label)), func(ok bool) {
			if ok {
				yes()
			} else {
				no()
			}
		}, i.win)
	d.Resize(fyne.NewSize(700, 420))
	i.trackDialog(d, func() { yes(); d.Hide() }, func() { no(); d.Hide() })
	d.Show()
}

// recordSignOff records that the model in use went live with figures
// ("" unchecked), then refreshes the line under the strip.
func (i *Inspector) recordSignOff(figures string) {
	if i.store == nil || i.models.manifest == nil {
		return
	}
	store, ctx, who, model := i.store, i.ctx, i.changedBy(), i.models.manifest.Identity()
	i.goBackground(func() func() {
		err := station.RecordSignOff(ctx, store, who, model, figures)
		return func() {
			if err != nil {
				i.showError("Sign-off not recorded", err.Error())
			}
			i.refreshValidation()
		}
	})
}

// refreshValidation shows the "not validated on this line" line while
// the model in use has no checked sign-off on this station's trail (and
// always on a station without a trail, which records no sign-off).
func (i *Inspector) refreshValidation() {
	line := i.card.notValidated
	if line == nil {
		return
	}
	if i.models.manifest == nil {
		line.Hide()
		return
	}
	if i.store == nil {
		line.Show() // no trail, no sign-off: nothing says the model was checked here
		return
	}
	store, ctx, model := i.store, i.ctx, i.models.manifest.Identity()
	i.goBackground(func() func() {
		s, err := station.SignOffOf(ctx, store, model)
		return func() {
			if i.models.manifest == nil || i.models.manifest.Identity() != model {
				return // switched meanwhile: its own refresh follows
			}
			i.models.signOff = s
			i.models.refresh()
			if err == nil && s != nil && s.Checked {
				line.Hide()
				return
			}
			line.Show()
		}
	})
}
