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

// trackDialog makes Enter run enter and Esc run esc while d is the top
// dialog, and keeps the window's strip keys (P, R, N, arrows) from acting
// on the strip behind it. The window's key handler asks topDialog.
func (i *Inspector) trackDialog(d dialog.Dialog, enter, esc func()) {
	i.dialogs = append(i.dialogs, keyedDialog{d: d, enter: enter, esc: esc})
	d.SetOnClosed(func() {
		for k := len(i.dialogs) - 1; k >= 0; k-- {
			if i.dialogs[k].d == d {
				i.dialogs = append(i.dialogs[:k], i.dialogs[k+1:]...)
				break
			}
		}
	})
}

// topDialog is the open dialog keys go to, or nil.
func (i *Inspector) topDialog() *keyedDialog {
	if len(i.dialogs) == 0 {
		return nil
	}
	return &i.dialogs[len(i.dialogs)-1]
}

// dialogKey handles a key typed while a dialog is open (nothing focused):
// Enter confirms, Esc cancels, and every other key is swallowed. It
// reports whether a dialog was open.
func (i *Inspector) dialogKey(ev *fyne.KeyEvent) bool {
	top := i.topDialog()
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

// keyedForm makes a form dialog that Enter submits (also from any
// single-line entry in it) and Esc cancels (also from a dialogEntry in it).
func (i *Inspector) keyedForm(title, confirm, dismiss string, items []*widget.FormItem, done func(bool)) *dialog.FormDialog {
	d := dialog.NewForm(title, confirm, dismiss, items, done, i.win)
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
	i.trackDialog(d, d.Submit, d.Dismiss)
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
