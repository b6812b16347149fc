package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
)

// lock.go is the supervisor's sign-in that unlocks the settings panel
// (settings.go) and the trail's record of setting changes.

// isLocked says whether changing thresholds or the model needs the PIN.
func (i *Inspector) isLocked() bool { return i.settings.Locked() }

// refreshLock enables or disables what the lock guards.
func (i *Inspector) refreshLock() {
	w := &i.w
	if !i.settings.built() || w.modelBtn == nil {
		return
	}
	locked := i.isLocked()
	i.settings.refreshLockRow()
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
			i.settings.unlock(u.Name)
			if then != nil {
				then()
			}
		}
	})
}

// lockChanged refreshes what the lock guards once the settings were
// locked or unlocked (settingsHost); the trail records the sign-out of
// signedOut, the supervisor whose unlock the lock ended.
func (i *Inspector) lockChanged(signedOut string) {
	if signedOut != "" {
		store, ctx := i.store, i.ctx
		i.goBackground(func() func() {
			store.AddAccessEvent(ctx, signedOut, audit.EventSignOut, "settings locked")
			return nil
		})
	}
	i.refreshLock()
}

// recordSetting writes a setting change to the audit trail, off the UI
// goroutine.
func (i *Inspector) recordSetting(setting, old, new string) {
	i.recordSettingBy(i.changedBy(), setting, old, new)
}

// changedBy names who changes a setting now, for the trail: the
// supervisor who unlocked, and the operator on shift when another.
func (i *Inspector) changedBy() string {
	who, by := "supervisor", i.settings.UnlockedBy()
	if by != "" {
		who = by
	}
	if i.review.operator != "" && i.review.operator != by {
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
