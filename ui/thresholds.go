package ui

import (
	"fmt"
	"math"
	"time"

	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Slider ranges: the station's (verdict.StationPassMin …).
const (
	passMin, passMax     = verdict.StationPassMin, verdict.StationPassMax
	rejectMin, rejectMax = verdict.StationRejectMin, verdict.StationRejectMax
	thresholdStep        = verdict.ThresholdStep
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
func (i *Inspector) modelDefaults() verdict.Thresholds {
	t := verdict.DefaultThresholds
	if i.models.manifest != nil && i.models.manifest.DefaultThresholds.Validate() == nil {
		t = i.models.manifest.DefaultThresholds
	}
	return fitThresholds(t)
}

// fitThresholds clamps both thresholds into their slider ranges and keeps
// pass below reject.
func fitThresholds(t verdict.Thresholds) verdict.Thresholds { return t.FitStation() }

// loadThresholds reads the thresholds saved by an earlier run, falling
// back to the model's defaults.
func (i *Inspector) loadThresholds() verdict.Thresholds {
	def := i.modelDefaults()
	p := i.app.Preferences()
	t := fitThresholds(verdict.Thresholds{
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
	rec, err := i.st.InForce(i.ctx)
	if err != nil {
		i.showError("Cannot read the recorded settings", err.Error())
		return
	}
	cur := i.settings.Thresholds()
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
	i.settings.hold(want)
	i.work.setThresholds(want)
	i.saveThresholds()
	i.recordSettingBy("station (at start)", "preferences_outside_station", fmt.Sprintf("pass %.2f reject %.2f", cur.Pass, cur.Reject),
		fmt.Sprintf("reverted to the recorded pass %.2f reject %.2f", want.Pass, want.Reject))
	i.showMessage("Thresholds changed outside the station", msg)
}

func (i *Inspector) saveThresholds() {
	p := i.app.Preferences()
	t := i.settings.Thresholds()
	p.SetFloat(prefPass, t.Pass)
	p.SetFloat(prefReject, t.Reject)
}

// thresholdsMoved puts the pair in force to work (settingsHost): the
// worker decides with it, the line and the preferences file hear it, and
// the strip shown is decided again.
func (i *Inspector) thresholdsMoved(t verdict.Thresholds) {
	i.work.setThresholds(t)
	i.reportSettings()
	i.saveThresholds()
	i.redecide()
}

// thresholdsRecorded has the hot folder watch on with the pair recorded
// (settingsHost).
func (i *Inspector) thresholdsRecorded() { i.watch.restart() }

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
	st, ctx, known := i.st, i.ctx, i.settings.Recorded()
	i.goBackground(func() func() {
		rec, err := st.InForce(ctx)
		return func() {
			if err != nil || !rec.Recorded || rec.Thresholds == known || i.settings.Recorded() != known || !i.isLocked() {
				return
			}
			i.settings.follow(rec.Thresholds)
			i.watch.restart()
			i.setStatus(fmt.Sprintf("Thresholds in force changed by %s: Auto-Pass %.2f, Auto-Reject %.2f (recorded in the audit trail)",
				rec.By, rec.Pass, rec.Reject))
		}
	})
}
