package ui

import (
	"time"

	"steelinspect/learn"
)

// The window watches the station's signs of drift (learn.MeasureDrift over
// the shift, against the limits the supervisor recorded with `steelinspect
// drift limits`): when one passes its limit, a line under the strip
// suggests learning again and says why, until the signs fall back.

// driftEvery is how often, at most, the signs are measured again as new
// strips are recorded.
const driftEvery = time.Minute

// minDriftStrips is how many strips of the shift the signs need before a
// share means anything.
const minDriftStrips = 20

// refreshDrift measures the shift's signs of drift off the UI goroutine
// and shows or hides the suggestion; at most once a driftEvery unless
// now is set (at start).
func (i *Inspector) refreshDrift(now bool) {
	line := i.card.driftLine
	if i.store == nil || line == nil || (!now && time.Since(i.driftAt) < driftEvery) {
		return
	}
	i.driftAt = time.Now()
	store, ctx := i.store, i.ctx
	i.goBackground(func() func() {
		limits, _, err := learn.DriftLimitsInForce(ctx, store)
		if err != nil {
			return nil // a bad recorded limit is the drift command's to report
		}
		until := time.Now()
		d, err := learn.MeasureDrift(ctx, store, until.Add(-ShiftLength), until, limits)
		return func() {
			if err != nil || d.Suggest == "" || d.Strips < minDriftStrips {
				line.Hide()
				return
			}
			line.SetText(d.Suggest + " (this shift: " + d.Summary() + "). File → Learn from decisions… learns from the strips people decided.")
			line.Show()
		}
	})
}
