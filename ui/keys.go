package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// keyedDialog is an open dialog and what Enter and Esc do to it.
type keyedDialog struct {
	d          dialog.Dialog
	enter, esc func()
}

// dialogKeys gives one window's dialogs Enter and Esc: Fyne's dialogs
// take neither. Each window (the station, history, calibrate) has its
// own, as each has its own canvas; a window whose canvas has no other key
// handler installs handle as it (listenOn).
type dialogKeys struct {
	win     fyne.Window
	dialogs []keyedDialog // open, the top last
}

// track makes Enter run enter and Esc run esc while d is the top dialog,
// and keeps the window's own keys (the station's P, R, N, arrows) from
// acting on what is behind it: the window's key handler asks top.
func (k *dialogKeys) track(d dialog.Dialog, enter, esc func()) {
	k.dialogs = append(k.dialogs, keyedDialog{d: d, enter: enter, esc: esc})
	d.SetOnClosed(func() {
		for n := len(k.dialogs) - 1; n >= 0; n-- {
			if k.dialogs[n].d == d {
				k.dialogs = append(k.dialogs[:n], k.dialogs[n+1:]...)
				break
			}
		}
	})
}

// top is the open dialog keys go to, or nil.
func (k *dialogKeys) top() *keyedDialog {
	if len(k.dialogs) == 0 {
		return nil
	}
	return &k.dialogs[len(k.dialogs)-1]
}

// handle takes a key typed while a dialog is open (nothing focused):
// Enter confirms, Esc cancels, and every other key is swallowed. It
// reports whether a dialog was open.
func (k *dialogKeys) handle(ev *fyne.KeyEvent) bool {
	top := k.top()
	if top == nil {
		return false
	}
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		top.enter()
	case fyne.KeyEscape:
		top.esc()
	}
	return true
}

// listenOn makes handle the window's key handler: for a window with no
// keys of its own.
func (k *dialogKeys) listenOn() { k.listenOnWithEsc(nil) }

// listenOnWithEsc is listenOn for a secondary window that Esc closes
// (close) when no dialog of its own is open.
func (k *dialogKeys) listenOnWithEsc(close func()) {
	k.win.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if !k.handle(ev) && ev.Name == fyne.KeyEscape && close != nil {
			close()
		}
	})
}

// message shows an OK dialog that Enter and Esc close.
func (k *dialogKeys) message(title string, content fyne.CanvasObject) dialog.Dialog {
	d := dialog.NewCustom(title, "OK", content, k.win)
	k.track(d, d.Hide, d.Hide)
	d.Show()
	return d
}

// fileDialog lets Enter press a file or folder picker's Open button (when
// something is picked) and Esc close it (picker.go).
func (k *dialogKeys) fileDialog(d *dialog.FileDialog) {
	k.track(d, pickerEnter(k.win, d), d.Hide)
}

// The station window's dialogs, for the screens that share its window.
func (i *Inspector) trackDialog(d dialog.Dialog, enter, esc func()) { i.keys.track(d, enter, esc) }
func (i *Inspector) topDialog() *keyedDialog                        { return i.keys.top() }
func (i *Inspector) dialogKey(ev *fyne.KeyEvent) bool               { return i.keys.handle(ev) }
func (i *Inspector) keyedForm(title, confirm, dismiss string, items []*widget.FormItem, done func(bool)) *dialog.FormDialog {
	return i.keys.form(title, confirm, dismiss, items, done)
}

// form makes a form dialog that Enter submits (also from any single-line
// entry in it) and Esc cancels (also from a dialogEntry in it).
func (k *dialogKeys) form(title, confirm, dismiss string, items []*widget.FormItem, done func(bool)) *dialog.FormDialog {
	d := dialog.NewForm(title, confirm, dismiss, items, done, k.win)
	for _, it := range items {
		switch e := it.Widget.(type) {
		case *dialogEntry:
			if !e.MultiLine {
				e.OnSubmitted = func(string) { d.Submit() }
			}
			e.onEsc = d.Dismiss
		case *widget.Entry:
			if !e.MultiLine {
				e.OnSubmitted = func(string) { d.Submit() }
			}
		}
	}
	k.track(d, d.Submit, d.Dismiss)
	return d
}

// dialogEntry is an entry for a dialog: Esc typed into it cancels the
// dialog (a plain entry keeps Esc to itself).
type dialogEntry struct {
	widget.Entry
	onEsc func()
}

func newDialogEntry(password, multiLine bool) *dialogEntry {
	e := &dialogEntry{}
	e.Password, e.MultiLine = password, multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapWord
	}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey gives Esc to the dialog and everything else to the entry.
func (e *dialogEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEsc != nil {
		e.onEsc()
		return
	}
	e.Entry.TypedKey(ev)
}
