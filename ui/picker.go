package ui

import (
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// What the window adds to Fyne's file and folder pickers, which offer no
// hook for either: Enter presses the picker's Open button, and a pick that
// comes right after the picker changed folder is not taken.
//
// Fyne's picker opens a file on the second click of a double-click on
// the same tile; clicking a folder changes folder at the first click, and
// the tile under the pointer is reused for whatever the new folder lists
// there, so the second click of a double-click on a folder opened that
// file. The picker says nothing of its folder changes but one thing: it
// stores each folder it shows in the app's preferences (pickerFolderKey),
// and preferences tell their listeners of every change.

// pickerFolderKey is where Fyne's picker (dialog/file.go, lastFolderKey)
// stores the folder it shows, at each change of folder.
const pickerFolderKey = "fyne:fileDialogLastFolder"

// pickerGuard notes when a picker last changed folder. Preferences call
// their listeners on the goroutine that set them: it has its own lock.
type pickerGuard struct {
	mu      sync.Mutex
	folder  string
	changed time.Time
}

// watchPickerFolder starts noting the picker's changes of folder, once.
func (i *Inspector) watchPickerFolder() *pickerGuard {
	if i.picker != nil {
		return i.picker
	}
	g := &pickerGuard{}
	prefs := i.app.Preferences()
	g.folder = prefs.String(pickerFolderKey)
	prefs.AddChangeListener(func() {
		now := prefs.String(pickerFolderKey)
		g.mu.Lock()
		defer g.mu.Unlock()
		if now != g.folder {
			g.folder, g.changed = now, time.Now()
		}
	})
	i.picker = g
	return g
}

// pickerGuardMargin is added to the driver's double-click delay: a pick
// this soon after a change of folder is the second click of the
// double-click that changed it.
const pickerGuardMargin = 200 * time.Millisecond

// justChanged says whether the picker changed folder within d.
func (g *pickerGuard) justChanged(d time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.changed.IsZero() && time.Since(g.changed) < d
}

// tooSoon says whether a file picked now came from the double-click that
// opened its folder, not from the user's choice.
func (i *Inspector) tooSoon() bool {
	return i.watchPickerFolder().justChanged(i.app.Driver().DoubleTapDelay() + pickerGuardMargin)
}

// pickerOpenButton finds a picker's Open button in the overlay it shows
// as: the one button of high importance in its containers.
func pickerOpenButton(o fyne.CanvasObject) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Importance == widget.HighImportance {
			return v
		}
	case *widget.PopUp:
		return pickerOpenButton(v.Content)
	case *container.Scroll:
		return pickerOpenButton(v.Content)
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := pickerOpenButton(c); b != nil {
				return b
			}
		}
	}
	return nil
}

// pickerEnter is what Enter does in a picker shown on win: press its Open
// button when it can be pressed. The picker is the overlay on top once
// shown; it is looked for when Enter is pressed.
func pickerEnter(win fyne.Window, d *dialog.FileDialog) func() {
	var shown fyne.CanvasObject
	d.SetOnClosed(func() { shown = nil })
	return func() {
		if shown == nil {
			shown = win.Canvas().Overlays().Top()
		}
		if b := pickerOpenButton(shown); b != nil && !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	}
}

// prefWatchLastDir is the folder last watched, kept after Stop watching:
// Watch folder… opens there, not in the folder last used to open or
// teach strips (a watched folder's files are moved).
const prefWatchLastDir = "watch.last_dir"

// pickWatchFolder shows the folder picker for Watch folder…: it opens in
// the folder last watched, else the home folder.
func pickWatchFolder(keys *dialogKeys, prefs fyne.Preferences, fail func(error), chosen func(path string)) {
	showFolderPicker(keys, fail, chosen, func(d *dialog.FileDialog) {
		d.SetTitleText("Watch folder: its strips are scored and moved")
		dir := prefs.String(prefWatchLastDir)
		if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
			dir, _ = os.UserHomeDir()
		}
		startInDir(d, dir)
	})
}
