package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"
)

// settingsPanel is the settings column's thresholds: the Auto-Pass and
// Auto-Reject sliders with their values, the supervisor lock row over
// them and the decision-logic table under them. It holds the pair in
// force in the window and the lock, and tells the window through
// settingsHost. It belongs to the UI goroutine.
type settingsPanel struct {
	host settingsHost
	// station: the window keeps an audit trail, so the lock applies;
	// without one the settings stay free.
	station    bool
	thresholds verdict.Thresholds
	lock       lockState
	adjusting  bool // a slider is being nudged by code

	passSlider, rejectSlider *widget.Slider
	passValue, rejectValue   *widget.Label
	thresholdMsg             *widget.Label
	resetBtn                 *widget.Button
	logic                    [3]logicRow
	lockIcon                 *widget.Icon
	lockLabel                *widget.Label
	unlockBtn, lockBtn       *widget.Button
}

// settingsHost is what the settings panel needs of the window. The
// Inspector implements it.
type settingsHost interface {
	// thresholdsMoved puts the pair in force to work: the worker decides
	// with it, the line and the preferences file hear it, and the strip
	// shown is decided again.
	thresholdsMoved(t verdict.Thresholds)
	// thresholdsRecorded says a changed pair was recorded in the trail
	// (the hot folder watches on with it).
	thresholdsRecorded()
	// recordSetting records a setting change in the audit trail.
	recordSetting(setting, old, new string)
	// modelDefaults are the thresholds Model defaults returns to.
	modelDefaults() verdict.Thresholds
	// askUnlock asks a supervisor to sign in, and runs then once unlocked.
	askUnlock(then func())
	// lockChanged says the settings were locked or unlocked; signedOut
	// names the supervisor whose unlock the lock ended ("" when none).
	lockChanged(signedOut string)
	// onUI runs f on the UI goroutine.
	onUI(f func())
}

// lockState is the supervisor lock on thresholds and model. It applies
// when the window keeps an audit trail (a station); without one the
// settings stay free as before.
type lockState struct {
	locked bool
	// by is the supervisor or admin who unlocked the settings ("" while
	// locked).
	by      string
	idle    time.Duration // 0: defaultLockIdle
	timer   *time.Timer
	gen     int                // counts unlocks, to tell stale idle timers
	settled verdict.Thresholds // thresholds last recorded in the audit
}

func (l *lockState) stopTimer() {
	if l.timer != nil {
		l.timer.Stop()
	}
}

// defaultLockIdle is how long settings stay unlocked without a change:
// the supervisor who unlocked them is signed out after it.
const defaultLockIdle = 3 * time.Minute

// logicRow is one line of the decision-logic table.
type logicRow struct {
	bg    *canvas.Rectangle
	rng   *widget.Label
	label *widget.Label
}

// newSettingsPanel holds t in force, locked; station says the window
// keeps an audit trail.
func newSettingsPanel(host settingsHost, station bool, t verdict.Thresholds) *settingsPanel {
	return &settingsPanel{host: host, station: station, thresholds: t, lock: lockState{locked: true}}
}

// Thresholds is the pair in force in the window.
func (p *settingsPanel) Thresholds() verdict.Thresholds { return p.thresholds }

// Locked says whether changing thresholds or the model needs the PIN.
func (p *settingsPanel) Locked() bool { return p.station && p.lock.locked }

// UnlockedBy is the supervisor who unlocked the settings, "" while locked.
func (p *settingsPanel) UnlockedBy() string { return p.lock.by }

// Recorded is the pair last recorded in the audit trail.
func (p *settingsPanel) Recorded() verdict.Thresholds { return p.lock.settled }

// hold puts t in force as the pair recorded, without telling the window
// (the recorded pair taken at start).
func (p *settingsPanel) hold(t verdict.Thresholds) {
	p.thresholds = t
	p.lock.settled = t
}

// follow takes t, recorded elsewhere, as the pair in force.
func (p *settingsPanel) follow(t verdict.Thresholds) {
	p.lock.settled = t
	p.SetThresholds(t.Pass, t.Reject, true)
}

// build makes the Thresholds section: the lock row and the two sliders.
func (p *settingsPanel) build() fyne.CanvasObject {
	p.passSlider = widget.NewSlider(passMin, passMax)
	p.passSlider.Step = thresholdStep
	p.passSlider.OnChanged = p.onPassChanged
	p.passSlider.OnChangeEnded = p.onSettled
	p.rejectSlider = widget.NewSlider(rejectMin, rejectMax)
	p.rejectSlider.Step = thresholdStep
	p.rejectSlider.OnChanged = p.onRejectChanged
	p.rejectSlider.OnChangeEnded = p.onSettled
	p.passValue = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	p.rejectValue = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	p.thresholdMsg = widget.NewLabel("")
	p.thresholdMsg.Wrapping = fyne.TextWrapWord
	p.thresholdMsg.Importance = widget.WarningImportance
	p.thresholdMsg.Hide()
	reset := widget.NewButtonWithIcon("Model defaults", theme.ViewRefreshIcon(), p.Reset)
	reset.Importance = widget.LowImportance
	p.resetBtn = reset

	row := func(z verdict.Zone, name string, value *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil, swatchBox(zoneColor(z), 14),
			value, widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	return container.NewVBox(
		heading("Thresholds"),
		p.buildLockRow(),
		row(verdict.ZoneAutoPass, "Auto-Pass threshold", p.passValue),
		p.passSlider,
		row(verdict.ZoneAutoReject, "Auto-Reject threshold", p.rejectValue),
		p.rejectSlider,
		p.thresholdMsg,
		container.NewHBox(layout.NewSpacer(), reset),
	)
}

func (p *settingsPanel) buildLockRow() fyne.CanvasObject {
	p.lock.settled = p.thresholds
	p.lockIcon = widget.NewIcon(theme.VisibilityOffIcon())
	p.lockLabel = widget.NewLabel("")
	p.unlockBtn = widget.NewButtonWithIcon("Unlock…", theme.LoginIcon(), func() { p.host.askUnlock(nil) })
	p.lockBtn = widget.NewButtonWithIcon("Lock", theme.LogoutIcon(), p.Lock)
	row := container.NewHBox(p.lockIcon, p.lockLabel, p.unlockBtn, p.lockBtn)
	if !p.station {
		row.Hide()
	}
	return row
}

// buildLogicTable makes the Decision logic section.
func (p *settingsPanel) buildLogicTable() fyne.CanvasObject {
	names := [3]string{"Green", "Yellow", "Red"}
	decisions := [3]string{"PASS: auto-approve", "REVIEW: manual inspection", "REJECT: auto-reject"}
	rows := []fyne.CanvasObject{heading("Decision logic")}
	for z := range 3 {
		bg := canvas.NewRectangle(color.Transparent)
		bg.CornerRadius = 4
		rng := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		lbl := widget.NewLabel(decisions[z])
		lbl.Importance = decisionImportance(verdict.Decision(z))
		p.logic[z] = logicRow{bg: bg, rng: rng, label: lbl}
		zoneName := widget.NewLabelWithStyle(names[z], fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		top := container.NewHBox(swatchBox(zoneColor(verdict.Zone(z)), 14), zoneName, layout.NewSpacer(), rng)
		rows = append(rows, container.NewStack(bg, container.New(&tightColumn{}, top, lbl)))
	}
	note := widget.NewLabel("Strip score = its highest patch probability.")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance
	rows = append(rows, note)
	return container.NewVBox(rows...)
}

// built says whether build has made the panel's widgets.
func (p *settingsPanel) built() bool { return p.passSlider != nil && p.lockLabel != nil }

// onPassChanged is the Auto-Pass slider's callback.
func (p *settingsPanel) onPassChanged(v float64) {
	if p.adjusting {
		return
	}
	if p.Locked() {
		p.syncSliders()
		return
	}
	p.SetThresholds(round2(v), p.thresholds.Reject, true)
}

// onRejectChanged is the Auto-Reject slider's callback.
func (p *settingsPanel) onRejectChanged(v float64) {
	if p.adjusting {
		return
	}
	if p.Locked() {
		p.syncSliders()
		return
	}
	p.SetThresholds(p.thresholds.Pass, round2(v), false)
}

// SetThresholds applies new thresholds and has the window re-decide. The
// two ranges meet at 0.50, so the sliders could ask for pass == reject:
// the slider the user moved (passMoved: Auto-Pass) keeps its value and
// the other one steps aside, with a message saying so.
func (p *settingsPanel) SetThresholds(pass, reject float64, passMoved bool) {
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
	p.thresholds = fitThresholds(verdict.Thresholds{Pass: pass, Reject: reject})
	p.touch()
	p.syncSliders()
	p.setMessage(msg)
	p.host.thresholdsMoved(p.thresholds)
}

// Reset returns to the model's defaults.
func (p *settingsPanel) Reset() {
	if p.Locked() {
		return
	}
	d := p.host.modelDefaults()
	p.SetThresholds(d.Pass, d.Reject, true)
	p.Record()
}

// syncSliders moves the sliders to the held thresholds without feeding
// back into SetThresholds.
func (p *settingsPanel) syncSliders() {
	p.adjusting = true
	defer func() { p.adjusting = false }()
	p.passSlider.SetValue(p.thresholds.Pass)
	p.rejectSlider.SetValue(p.thresholds.Reject)
	p.passValue.SetText(fmt.Sprintf("%.2f", p.thresholds.Pass))
	p.rejectValue.SetText(fmt.Sprintf("%.2f", p.thresholds.Reject))
}

// setMessage shows msg under the sliders, or hides it when "".
func (p *settingsPanel) setMessage(msg string) {
	m := p.thresholdMsg
	m.SetText(msg)
	if msg == "" {
		m.Hide()
	} else {
		m.Show()
	}
}

// refreshLogic writes the thresholds into the decision-logic table and
// marks the row of v's decision (none when v is nil).
func (p *settingsPanel) refreshLogic(v *verdict.Verdict) {
	t := p.thresholds
	ranges := [3]string{
		fmt.Sprintf("p < %.2f", t.Pass),
		fmt.Sprintf("%.2f – %.2f", t.Pass, t.Reject),
		fmt.Sprintf("p > %.2f", t.Reject),
	}
	current := -1
	if v != nil {
		current = int(v.Decision)
	}
	for z := range 3 {
		r := p.logic[z]
		r.rng.SetText(ranges[z])
		if z == current {
			c := zoneColor(verdict.Zone(z))
			c.A = 0x38
			r.bg.FillColor = c
			r.bg.StrokeColor = zoneColor(verdict.Zone(z))
			r.bg.StrokeWidth = 1.5
			r.label.TextStyle = fyne.TextStyle{Bold: true}
		} else {
			r.bg.FillColor = color.Transparent
			r.bg.StrokeWidth = 0
			r.label.TextStyle = fyne.TextStyle{}
		}
		r.bg.Refresh()
		r.label.Refresh()
	}
}

// refreshLockRow enables or disables the sliders and Model defaults, and
// shows the lock row's state.
func (p *settingsPanel) refreshLockRow() {
	locked := p.Locked()
	for _, d := range []fyne.Disableable{p.passSlider, p.rejectSlider, p.resetBtn} {
		if locked {
			d.Disable()
		} else {
			d.Enable()
		}
	}
	if locked {
		p.lockIcon.SetResource(theme.NewWarningThemedResource(lockIconResource()))
		p.lockLabel.SetText("Locked (supervisor)")
		p.unlockBtn.Show()
		p.lockBtn.Hide()
	} else {
		p.lockIcon.SetResource(theme.NewSuccessThemedResource(theme.VisibilityIcon()))
		p.lockLabel.SetText("Unlocked by " + p.lock.by)
		p.unlockBtn.Hide()
		p.lockBtn.Show()
	}
}

// lockIconResource is a padlock drawn in SVG (the theme has none).
func lockIconResource() fyne.Resource {
	return fyne.NewStaticResource("lock.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+
		`<path fill="#000000" d="M12 1a5 5 0 0 0-5 5v4H5v13h14V10h-2V6a5 5 0 0 0-5-5zm-3 5a3 3 0 0 1 6 0v4H9V6zm3 8a2 2 0 0 1 1 3.7V20h-2v-2.3A2 2 0 0 1 12 14z"/></svg>`))
}

// unlock lifts the lock for the supervisor by, who signed in.
func (p *settingsPanel) unlock(by string) {
	p.lock.by = by
	p.setLocked(false)
}

// Lock locks the settings again.
func (p *settingsPanel) Lock() { p.setLocked(true) }

func (p *settingsPanel) setLocked(locked bool) {
	signedOut := ""
	if locked {
		signedOut, p.lock.by = p.lock.by, ""
	}
	p.lock.locked = locked
	p.lock.gen++
	p.lock.stopTimer()
	if !locked {
		p.touch()
	}
	p.host.lockChanged(signedOut)
}

// touch restarts the idle time after which the settings lock again.
func (p *settingsPanel) touch() {
	if !p.station || p.lock.locked {
		return
	}
	p.lock.stopTimer()
	idle := p.lock.idle
	if idle <= 0 {
		idle = defaultLockIdle
	}
	gen := p.lock.gen
	p.lock.timer = time.AfterFunc(idle, func() {
		p.host.onUI(func() {
			if p.lock.gen == gen && !p.lock.locked {
				p.setLocked(true)
			}
		})
	})
}

// stop stops the idle timer (the window closes).
func (p *settingsPanel) stop() { p.lock.stopTimer() }

// onSettled records threshold changes in the audit trail once a slider
// drag ends, not for every step of it.
func (p *settingsPanel) onSettled(float64) {
	if p.adjusting {
		return
	}
	p.Record()
}

// Record records each threshold that differs from the last one recorded.
func (p *settingsPanel) Record() {
	old, cur := p.lock.settled, p.thresholds
	p.lock.settled = cur
	if old.Pass != cur.Pass {
		p.host.recordSetting(audit.SettingPassThreshold, station.FormatThreshold(old.Pass), station.FormatThreshold(cur.Pass))
	}
	if old.Reject != cur.Reject {
		p.host.recordSetting(audit.SettingRejectThreshold, station.FormatThreshold(old.Reject), station.FormatThreshold(cur.Reject))
	}
	if old != cur {
		p.host.thresholdsRecorded()
	}
}
