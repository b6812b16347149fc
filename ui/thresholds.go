package ui

import (
	"fmt"
	"math"
	"time"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
)

// Slider ranges: the station's (inference.StationPassMin …).
const (
	passMin, passMax     = inference.StationPassMin, inference.StationPassMax
	rejectMin, rejectMax = inference.StationRejectMin, inference.StationRejectMax
	thresholdStep        = inference.ThresholdStep
)

// Preference keys.
const (
	prefPass           = "thresholds.pass"
	prefReject         = "thresholds.reject"
	prefOverlayOpacity = "overlay.opacity"
	prefOverlayShown   = "overlay.shown"
	prefFineMap        = "overlay.fine_map"
	prefOverlayColours = "overlay.colours"
	prefWatchSound     = "watch.sound"
	prefLastDir        = "dialog.last_dir"
)

// defaultOverlayOpacity lets the strip show through the tint.
const defaultOverlayOpacity = 0.40

// round2 rounds to the slider step, so 0.1+0.2 style float noise never
// reaches the display or the decision.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// modelDefaults are the model manifest's default thresholds, fitted into
// the slider ranges (the seed's 0.40/0.65 when there is no manifest).
func (i *Inspector) modelDefaults() inference.Thresholds {
	t := inference.DefaultThresholds
	if i.models.manifest != nil && i.models.manifest.DefaultThresholds.Validate() == nil {
		t = i.models.manifest.DefaultThresholds
	}
	return fitThresholds(t)
}

// fitThresholds clamps both thresholds into their slider ranges and keeps
// pass below reject.
func fitThresholds(t inference.Thresholds) inference.Thresholds { return t.FitStation() }

// loadThresholds reads the thresholds saved by an earlier run, falling
// back to the model's defaults.
func (i *Inspector) loadThresholds() inference.Thresholds {
	def := i.modelDefaults()
	p := i.app.Preferences()
	t := fitThresholds(inference.Thresholds{
		Pass:   p.FloatWithFallback(prefPass, def.Pass),
		Reject: p.FloatWithFallback(prefReject, def.Reject),
	})
	if t.Validate() != nil {
		return def
	}
	return t
}

// checkRecordedThresholds holds the thresholds to the audit trail's: the
// preferences file is only a copy. When the two differ, someone edited
// the file with the station closed; the recorded pair stays in force,
// the window says so and the trail records it. A trail that has none yet
// records the pair in force, so a later edit shows.
func (i *Inspector) checkRecordedThresholds() {
	if i.store == nil {
		return
	}
	rec, err := station.ThresholdsInForce(i.ctx, i.store, i.thresholds)
	if err != nil {
		i.showError("Cannot read the recorded settings", err.Error())
		return
	}
	cur := i.thresholds
	if !rec.Recorded {
		who := "station (first start with this trail)"
		i.recordSettingBy(who, audit.SettingPassThreshold, "", station.FormatThreshold(cur.Pass))
		i.recordSettingBy(who, audit.SettingRejectThreshold, "", station.FormatThreshold(cur.Reject))
		// the preferences file holds its copy of the recorded pair from now on, written
		// here rather than by the toolkit's save at exit, which a busy machine can lose
		i.saveThresholds()
		return
	}
	want := rec.Thresholds
	if want == cur {
		return
	}
	msg := fmt.Sprintf("The preferences file says Auto-Pass %.2f and Auto-Reject %.2f, but the audit trail last recorded %.2f and %.2f: "+
		"the file was changed outside the station. The recorded thresholds are in force; change them here, unlocked, to have them recorded.",
		cur.Pass, cur.Reject, want.Pass, want.Reject)
	i.thresholds = want
	i.work.setThresholds(want)
	i.saveThresholds()
	i.lock.settled = want
	i.recordSettingBy("station (at start)", "preferences_outside_station", fmt.Sprintf("pass %.2f reject %.2f", cur.Pass, cur.Reject),
		fmt.Sprintf("reverted to the recorded pass %.2f reject %.2f", want.Pass, want.Reject))
	i.showMessage("Thresholds changed outside the station", msg)
}

func (i *Inspector) saveThresholds() {
	p := i.app.Preferences()
	p.SetFloat(prefPass, i.thresholds.Pass)
	p.SetFloat(prefReject, i.thresholds.Reject)
}

// onPassChanged is the Auto-Pass slider's callback.
func (i *Inspector) onPassChanged(v float64) {
	if i.adjusting {
		return
	}
	if i.isLocked() {
		i.syncSliders()
		return
	}
	i.setThresholds(round2(v), i.thresholds.Reject, true)
}

// onRejectChanged is the Auto-Reject slider's callback.
func (i *Inspector) onRejectChanged(v float64) {
	if i.adjusting {
		return
	}
	if i.isLocked() {
		i.syncSliders()
		return
	}
	i.setThresholds(i.thresholds.Pass, round2(v), false)
}

// setThresholds applies new thresholds and re-decides. The two ranges
// meet at 0.50, so the sliders could ask for pass == reject: the slider
// the user moved keeps its value and the other one steps aside, with a
// message saying so.
func (i *Inspector) setThresholds(pass, reject float64, passMoved bool) {
	msg := ""
	if pass >= reject {
		if passMoved {
			reject = round2(pass + thresholdStep)
			msg = fmt.Sprintf("Auto-Pass must stay below Auto-Reject: Auto-Reject moved up to %.2f.", reject)
		} else {
			pass = round2(reject - thresholdStep)
			msg = fmt.Sprintf("Auto-Pass must stay below Auto-Reject: Auto-Pass moved down to %.2f.", pass)
		}
	}
	i.thresholds = fitThresholds(inference.Thresholds{Pass: pass, Reject: reject})
	i.work.setThresholds(i.thresholds)
	i.reportSettings()
	i.touchLock()
	i.syncSliders()
	i.setThresholdMessage(msg)
	i.saveThresholds()
	i.redecide()
}

// resetThresholds returns to the model's defaults.
func (i *Inspector) resetThresholds() {
	if i.isLocked() {
		return
	}
	d := i.modelDefaults()
	i.setThresholds(d.Pass, d.Reject, true)
	i.recordThresholds()
}

// syncSliders moves the sliders to the held thresholds without feeding
// back into setThresholds.
func (i *Inspector) syncSliders() {
	i.adjusting = true
	defer func() { i.adjusting = false }()
	i.w.passSlider.SetValue(i.thresholds.Pass)
	i.w.rejectSlider.SetValue(i.thresholds.Reject)
	i.w.passValue.SetText(fmt.Sprintf("%.2f", i.thresholds.Pass))
	i.w.rejectValue.SetText(fmt.Sprintf("%.2f", i.thresholds.Reject))
}

// followEvery is how often the window looks for a threshold change
// recorded elsewhere (a supervisor's `steelinspect settings set`).
const followEvery = 15 * time.Second

// followRecordedThresholds keeps the window on the thresholds in force:
// every followEvery it reads the trail, and a pair recorded elsewhere
// since the window last recorded or read one (while its settings are
// locked) becomes the window's, said in the status bar and recorded
// nowhere (it is recorded already). Before, a running window decided
// with its own pair until it was started again.
func (i *Inspector) followRecordedThresholds() {
	if i.store == nil {
		return
	}
	ctx := i.ctx
	go func() {
		tick := time.NewTicker(followEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				i.do(i.checkThresholdsInForce)
			}
		}
	}()
}

// checkThresholdsInForce reads the trail's pair off the UI goroutine and
// takes it when another process recorded a different one.
func (i *Inspector) checkThresholdsInForce() {
	if i.store == nil || !i.isLocked() {
		return // unlocked: the supervisor at this window is the one changing them
	}
	store, ctx, known := i.store, i.ctx, i.lock.settled
	i.goBackground(func() func() {
		rec, err := station.ThresholdsInForce(ctx, store, known)
		return func() {
			if err != nil || !rec.Recorded || rec.Thresholds == known || i.lock.settled != known || !i.isLocked() {
				return
			}
			i.lock.settled = rec.Thresholds
			i.setThresholds(rec.Pass, rec.Reject, true)
			i.watch.restart()
			i.setStatus(fmt.Sprintf("Thresholds in force changed by %s: Auto-Pass %.2f, Auto-Reject %.2f (recorded in the audit trail)",
				rec.By, rec.Pass, rec.Reject))
		}
	})
}
