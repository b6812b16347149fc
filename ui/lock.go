package ui

import (
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
)

// defaultLockIdle is how long settings stay unlocked without a change:
// the supervisor who unlocked them is signed out after it.
const defaultLockIdle = 3 * time.Minute

// lockState is the supervisor lock on thresholds and model. It applies
// when the window keeps an audit trail (a station); without one the
// settings stay free as before. It belongs to the UI goroutine.
type lockState struct {
	locked bool
	// by is the supervisor or admin who unlocked the settings ("" while
	// locked).
	by      string
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
		w.lockLabel.SetText("Unlocked by " + i.lock.by)
		w.unlockBtn.Hide()
		w.lockBtn.Show()
	}
}

// lockIconResource is a padlock drawn in SVG (the theme has none).
func lockIconResource() fyne.Resource {
	return fyne.NewStaticResource("lock.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+
		`<path fill="#000000" d="M12 1a5 5 0 0 0-5 5v4H5v13h14V10h-2V6a5 5 0 0 0-5-5zm-3 5a3 3 0 0 1 6 0v4H9V6zm3 8a2 2 0 0 1 1 3.7V20h-2v-2.3A2 2 0 0 1 12 14z"/></svg>`))
}

// noSupervisorYet is why the settings cannot be unlocked on a station
// without a supervisor or admin: whoever clicked first must not become
// one.
const noSupervisorYet = "No supervisor or admin exists on this station yet, so the settings stay locked. " +
	"An admin is made on the station's command line: steelinspect users add NAME --role admin"

// askUnlock asks a supervisor or admin to sign in, and runs then once
// the settings are unlocked.
func (i *Inspector) askUnlock(then func()) {
	name, password := newDialogEntry(false, false), newDialogEntry(true, false)
	d := i.keyedForm("Unlock settings", "Unlock", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Supervisor", name), widget.NewFormItem("Password", password)},
		func(ok bool) {
			if ok {
				i.checkUser(name.Text, password.Text, i.showError, then)
			}
		})
	d.Resize(fyne.NewSize(420, 200))
	d.Show()
	i.win.Canvas().Focus(name)
}

// checkUser is the one check of a supervisor's sign-in (the main window's
// Unlock and the Calibrate view's "Unlock and apply"): off the UI
// goroutine (bcrypt is slow on purpose), it signs name in through the
// audit trail, which records the attempt; a supervisor or admin unlocks
// the settings and then runs; anyone else is told why by refuse, the
// settings left locked.
func (i *Inspector) checkUser(name, password string, refuse func(title, msg string), then func()) {
	store, ctx := i.store, i.ctx
	if store == nil {
		return
	}
	i.goBackground(func() func() {
		if ok, err := store.HasRole(ctx, audit.RoleSupervisor); err != nil || !ok {
			return func() { refuse("Settings stay locked", noSupervisorYet) }
		}
		u, err := store.SignIn(ctx, name, password, audit.EventSignIn, "to unlock the settings")
		if err == nil && !u.Can(audit.RoleSupervisor) {
			store.AddAccessEvent(ctx, u.Name, "unlock_refused", "role "+u.Role)
			return func() {
				refuse("Not unlocked", fmt.Sprintf("%s is an operator: the settings need a supervisor or admin. They stay locked.", u.Name))
			}
		}
		if err == nil {
			err = store.AddAccessEvent(ctx, u.Name, audit.EventUnlock, "settings")
		}
		return func() {
			var wait *audit.SignInWaitError
			switch {
			case errors.Is(err, audit.ErrWrongPassword), errors.As(err, &wait), errors.Is(err, audit.ErrSignInLocked):
				refuse("Not unlocked", audit.SignInMessage(err)+" The settings stay locked.")
				return
			case err != nil:
				refuse("Cannot check the sign-in", err.Error())
				return
			}
			i.lock.by = u.Name
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
	if locked && i.lock.by != "" {
		by, store, ctx := i.lock.by, i.store, i.ctx
		i.lock.by = ""
		i.goBackground(func() func() {
			store.AddAccessEvent(ctx, by, audit.EventSignOut, "settings locked")
			return nil
		})
	}
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
		i.recordSetting(audit.SettingPassThreshold, station.FormatThreshold(old.Pass), station.FormatThreshold(cur.Pass))
	}
	if old.Reject != cur.Reject {
		i.recordSetting(audit.SettingRejectThreshold, station.FormatThreshold(old.Reject), station.FormatThreshold(cur.Reject))
	}
	if old != cur {
		i.watch.restart()
	}
}

// recordSetting writes a setting change to the audit trail, off the UI
// goroutine.
func (i *Inspector) recordSetting(setting, old, new string) {
	i.recordSettingBy(i.changedBy(), setting, old, new)
}

// changedBy names who changes a setting now, for the trail: the
// supervisor who unlocked, and the operator on shift when another.
func (i *Inspector) changedBy() string {
	who := "supervisor"
	if i.lock.by != "" {
		who = i.lock.by
	}
	if i.review.operator != "" && i.review.operator != i.lock.by {
		who += " (operator " + i.review.operator + ")"
	}
	return who
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
