package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/bcrypt"

	"steelinspect/inference"
)

// prefPINHash is the Preferences key of the supervisor PIN's bcrypt hash;
// the PIN itself is never stored.
const prefPINHash = "supervisor_pin_bcrypt"

// pinCost is the bcrypt cost of the PIN hash.
const pinCost = 11

// defaultLockIdle is how long settings stay unlocked without a change.
const defaultLockIdle = 3 * time.Minute

// minPINLength is the shortest PIN accepted when one is set.
const minPINLength = 4

// lockState is the supervisor lock on thresholds and model. It applies
// when the window keeps an audit trail (a station); without one the
// settings stay free as before. It belongs to the UI goroutine.
type lockState struct {
	locked  bool
	idle    time.Duration // 0: defaultLockIdle
	timer   *time.Timer
	gen     int                  // counts unlocks, to tell stale idle timers
	settled inference.Thresholds // thresholds last recorded in the audit
}

func (l *lockState) stopTimer() {
	if l.timer != nil {
		l.timer.Stop()
	}
}

// isLocked says whether changing thresholds or the model needs the PIN.
func (i *Inspector) isLocked() bool { return i.store != nil && i.lock.locked }

func (i *Inspector) buildLockRow() fyne.CanvasObject {
	w := &i.w
	i.lock.settled = i.thresholds
	w.lockIcon = widget.NewIcon(theme.VisibilityOffIcon())
	w.lockLabel = widget.NewLabel("")
	w.unlockBtn = widget.NewButtonWithIcon("Unlock…", theme.LoginIcon(), func() { i.askUnlock(nil) })
	w.lockBtn = widget.NewButtonWithIcon("Lock", theme.LogoutIcon(), i.lockNow)
	row := container.NewHBox(w.lockIcon, w.lockLabel, w.unlockBtn, w.lockBtn)
	if i.store == nil {
		row.Hide()
	}
	return row
}

// refreshLock enables or disables what the lock guards.
func (i *Inspector) refreshLock() {
	w := &i.w
	if w.passSlider == nil || w.lockLabel == nil || w.modelBtn == nil {
		return
	}
	locked := i.isLocked()
	for _, d := range []fyne.Disableable{w.passSlider, w.rejectSlider, w.resetBtn} {
		if locked {
			d.Disable()
		} else {
			d.Enable()
		}
	}
	p := i.models
	for _, b := range []*widget.Button{w.modelBtn, p.openBtn, p.teachBtn, p.backBtn} {
		if b == nil {
			continue
		}
		if locked || i.busy > 0 || (b == p.teachBtn && i.teach != nil) {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	if locked {
		w.lockIcon.SetResource(theme.NewWarningThemedResource(lockIconResource()))
		w.lockLabel.SetText("Locked (supervisor)")
		w.unlockBtn.Show()
		w.lockBtn.Hide()
	} else {
		w.lockIcon.SetResource(theme.NewSuccessThemedResource(theme.VisibilityIcon()))
		w.lockLabel.SetText("Unlocked")
		w.unlockBtn.Hide()
		w.lockBtn.Show()
	}
}

// lockIconResource is a padlock drawn in SVG (the theme has none).
func lockIconResource() fyne.Resource {
	return fyne.NewStaticResource("lock.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+
		`<path fill="#000000" d="M12 1a5 5 0 0 0-5 5v4H5v13h14V10h-2V6a5 5 0 0 0-5-5zm-3 5a3 3 0 0 1 6 0v4H9V6zm3 8a2 2 0 0 1 1 3.7V20h-2v-2.3A2 2 0 0 1 12 14z"/></svg>`))
}

// askUnlock asks for the supervisor PIN, or to set one when none is set
// yet, and runs then once unlocked.
func (i *Inspector) askUnlock(then func()) {
	if i.app.Preferences().String(prefPINHash) == "" {
		i.askNewPIN(then)
		return
	}
	pin := newDialogEntry(true, false)
	d := i.keyedForm("Unlock settings", "Unlock", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Supervisor PIN", pin)},
		func(ok bool) {
			if ok {
				i.unlock(pin.Text, then)
			}
		})
	d.Resize(fyne.NewSize(380, 160))
	d.Show()
	i.win.Canvas().Focus(pin)
}

// askNewPIN offers to set the supervisor PIN on first use.
func (i *Inspector) askNewPIN(then func()) {
	pin, again := newDialogEntry(true, false), newDialogEntry(true, false)
	pin.Validator = func(s string) error {
		if len(strings.TrimSpace(s)) < minPINLength {
			return fmt.Errorf("at least %d characters", minPINLength)
		}
		return nil
	}
	d := i.keyedForm("Set the supervisor PIN", "Set PIN", "Cancel",
		[]*widget.FormItem{
			widget.NewFormItem("New PIN", pin),
			widget.NewFormItem("Repeat", again),
		},
		func(ok bool) {
			if !ok {
				return
			}
			if pin.Text != again.Text {
				i.showError("PIN not set", "the two PINs differ")
				return
			}
			i.setPIN(pin.Text, then)
		})
	d.Resize(fyne.NewSize(420, 220))
	d.Show()
	i.win.Canvas().Focus(pin)
}

// setPIN stores the bcrypt hash of a new PIN and unlocks.
func (i *Inspector) setPIN(pin string, then func()) {
	if len(strings.TrimSpace(pin)) < minPINLength {
		i.showError("PIN not set", fmt.Sprintf("the PIN needs at least %d characters", minPINLength))
		return
	}
	i.goBackground(func() func() {
		hash, err := bcrypt.GenerateFromPassword([]byte(pin), pinCost)
		return func() {
			if err != nil {
				i.showError("PIN not set", err.Error())
				return
			}
			i.app.Preferences().SetString(prefPINHash, string(hash))
			i.recordSetting("supervisor_pin", "", "set")
			i.setLocked(false)
			if then != nil {
				then()
			}
		}
	})
}

// unlock checks a PIN (checkPIN) and unlocks when it matches; with no PIN
// set yet it offers to set one.
func (i *Inspector) unlock(pin string, then func()) {
	if i.app.Preferences().String(prefPINHash) == "" {
		i.askNewPIN(then)
		return
	}
	i.checkPIN(pin, i.showError, then)
}

// checkPIN is the one PIN check (the main window's Unlock and the
// Calibrate view's "Unlock and apply"): it compares pin with the stored
// bcrypt hash off the UI goroutine (bcrypt is slow on purpose), unlocks and
// runs then when it matches, and otherwise tells refuse why, the settings
// left locked.
func (i *Inspector) checkPIN(pin string, refuse func(title, msg string), then func()) {
	hash := i.app.Preferences().String(prefPINHash)
	if hash == "" {
		refuse("Settings are locked", "No supervisor PIN is set yet. Set one with Unlock… in the main window.")
		return
	}
	i.goBackground(func() func() {
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pin))
		return func() {
			switch {
			case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
				refuse("Wrong PIN", "The settings stay locked.")
				return
			case err != nil:
				refuse("Cannot check the PIN", err.Error())
				return
			}
			i.setLocked(false)
			if then != nil {
				then()
			}
		}
	})
}

// lockNow locks the settings again.
func (i *Inspector) lockNow() { i.setLocked(true) }

func (i *Inspector) setLocked(locked bool) {
	i.lock.locked = locked
	i.lock.gen++
	i.lock.stopTimer()
	if !locked {
		i.touchLock()
	}
	i.refreshLock()
}

// touchLock restarts the idle time after which the settings lock again.
func (i *Inspector) touchLock() {
	if i.store == nil || i.lock.locked {
		return
	}
	i.lock.stopTimer()
	idle := i.lock.idle
	if idle <= 0 {
		idle = defaultLockIdle
	}
	gen := i.lock.gen
	i.lock.timer = time.AfterFunc(idle, func() {
		i.do(func() {
			if i.lock.gen == gen && !i.lock.locked {
				i.setLocked(true)
			}
		})
	})
}

// onThresholdSettled records threshold changes in the audit trail once a
// slider drag ends, not for every step of it.
func (i *Inspector) onThresholdSettled(float64) {
	if i.adjusting {
		return
	}
	i.recordThresholds()
}

// recordThresholds records each threshold that differs from the last one
// recorded.
func (i *Inspector) recordThresholds() {
	old, cur := i.lock.settled, i.thresholds
	i.lock.settled = cur
	if old.Pass != cur.Pass {
		i.recordSetting("pass_threshold", fmt.Sprintf("%.2f", old.Pass), fmt.Sprintf("%.2f", cur.Pass))
	}
	if old.Reject != cur.Reject {
		i.recordSetting("reject_threshold", fmt.Sprintf("%.2f", old.Reject), fmt.Sprintf("%.2f", cur.Reject))
	}
	if old != cur {
		i.watch.restart()
	}
}

// recordSetting writes a setting change to the audit trail, off the UI
// goroutine.
func (i *Inspector) recordSetting(setting, old, new string) {
	who := "supervisor"
	if i.review.operator != "" {
		who += " (operator " + i.review.operator + ")"
	}
	i.recordSettingBy(who, setting, old, new)
}

// recordSettingBy records a setting change made by who (the station
// itself, at start).
func (i *Inspector) recordSettingBy(who, setting, old, new string) {
	if i.store == nil || old == new {
		return
	}
	store := i.store
	i.goBackground(func() func() {
		err := store.AddSettingChange(i.ctx, who, setting, old, new)
		if err == nil {
			return nil
		}
		return func() { i.showError("Setting change not recorded", err.Error()) }
	})
}
