package ui

import (
	"fmt"

	"steelinspect/verdict"
)

// The result card never contradicts itself: its headline is the decision
// in force (the recorded one, or a person's over it), and the line of
// advice beneath follows the headline, not what the current model and
// thresholds would give now (that is said in the line above, with
// Re-inspect with the current model to record it).

const reinspectLabel = "Re-inspect with the current model"

// cardAction is the card's line of advice for a strip whose decision in
// force is final, and the decision it speaks for: the live recommendation
// while it agrees; a person's decision in their name; else the recorded
// automatic decision's advice.
func (i *Inspector) cardAction(final verdict.Decision, v *verdict.Verdict) (string, verdict.Decision) {
	if final == v.Decision {
		return v.Recommendation, v.Decision
	}
	if it := i.currentItem(); it != nil && it.review != nil {
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
func (i *Inspector) refreshReinspect(v *verdict.Verdict) {
	it := i.currentItem()
	if it == nil || it.auditID == 0 || it.needsReview() || v.Decision == it.auto {
		i.w.reinspect.Hide()
		return
	}
	i.w.reinspect.SetText(fmt.Sprintf("%s (%s)", reinspectLabel, v.Decision))
	i.w.reinspect.Show()
}

// reinspectCurrent inspects the shown strip again with the model and
// thresholds in force, recorded as a new inspection; its card then shows
// that one.
func (i *Inspector) reinspectCurrent() {
	it := i.currentItem()
	if it == nil {
		return
	}
	s := it.source()
	i.setStatus(fmt.Sprintf("Inspecting %s again with the current model…", s.name))
	ctx := i.ctx
	i.enqueue(func(done func()) {
		res, err := i.work.inspect(ctx, s, true)
		i.do(func() {
			defer done()
			if err != nil {
				i.showError("Could not inspect "+s.name+" again", err.Error())
				return
			}
			i.addResult(s, res, true)
		})
	})
}
