package ui

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
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

// showOpenDialog picks one strip image (Fyne's picker picks one file; a
// folder of strips goes through Open folder…, which its title says).
func (i *Inspector) showOpenDialog() {
	if i.busy > 0 {
		return
	}
	i.pickFileTitled("Cannot open file", "Open one strip image (a whole folder: Open folder…)", imageExtensions,
		func(u fyne.URI) { i.openURIs([]fyne.URI{u}) })
}

// showFolderDialog queues every image in a folder and its subfolders.
func (i *Inspector) showFolderDialog() {
	pickFolder(&i.keys, i.app.Preferences(), func(err error) { i.showError("Cannot open folder", err.Error()) },
		func(path string) {
			i.app.Preferences().SetString(prefLastDir, path)
			i.openURIs([]fyne.URI{storage.NewFileURI(path)})
		})
}

func (i *Inspector) rememberDir(u fyne.URI) {
	if u.Scheme() == "file" {
		i.app.Preferences().SetString(prefLastDir, filepath.Dir(u.Path()))
	}
}

func (i *Inspector) startIn(d *dialog.FileDialog) { startInLastDir(d, i.app.Preferences()) }

// startInLastDir opens a file dialog in the folder the user last used,
// else in their home folder (not the process's working folder, which for
// a station started from a menu is often /).
func startInLastDir(d *dialog.FileDialog, prefs fyne.Preferences) {
	dir := prefs.String(prefLastDir)
	if dir == "" {
		dir, _ = os.UserHomeDir()
	}
	startInDir(d, dir)
}

// startInDir opens a file dialog in dir when it is a folder.
func startInDir(d *dialog.FileDialog, dir string) bool {
	if dir == "" {
		return false
	}
	l, err := storage.ListerForURI(storage.NewFileURI(dir))
	if err != nil {
		return false
	}
	d.SetLocation(l)
	return true
}

// pickFile shows a file picker for the given extensions, opening in the
// folder last used; the chosen file's folder is remembered and chosen gets
// its URI. Errors are shown under title; cancelling does nothing.
func (i *Inspector) pickFile(title string, extensions []string, chosen func(fyne.URI)) {
	i.pickFileTitled(title, "", extensions, chosen)
}

// pickFileTitled is pickFile with the picker's own title ("" Fyne's). A
// pick made by the double-click that opened a folder is not taken: the
// picker shows that folder again (picker.go). Enter presses Open.
func (i *Inspector) pickFileTitled(title, pickerTitle string, extensions []string, chosen func(fyne.URI)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			i.showError(title, err.Error())
			return
		}
		if r == nil {
			return
		}
		u := r.URI()
		r.Close()
		i.rememberDir(u)
		if i.tooSoon() {
			// the second click of a double-click on a folder: show the
			// folder it opened, and take nothing (picker.go)
			i.setStatus("Opened the folder " + filepath.Dir(u.Path()) + ": pick a strip in it (double-click, or select and press Enter).")
			i.pickFileTitled(title, pickerTitle, extensions, chosen)
			return
		}
		chosen(u)
	}, i.win)
	d.SetFilter(storage.NewExtensionFileFilter(extensions))
	i.startIn(d)
	d.Resize(fyne.NewSize(900, 600))
	if pickerTitle != "" {
		d.SetTitleText(pickerTitle)
	}
	i.keys.fileDialog(d)
	i.watchPickerFolder()
	d.Show()
}

// pickFolder shows a folder picker over win, opening in the folder last
// used, and calls chosen with the picked folder's path; fail gets errors.
// Cancelling calls neither.
func pickFolder(keys *dialogKeys, prefs fyne.Preferences, fail func(error), chosen func(path string)) {
	showFolderPicker(keys, fail, chosen, func(d *dialog.FileDialog) { startInLastDir(d, prefs) })
}

// showFolderPicker shows a folder picker over keys' window, set up by
// prepare (its title, the folder it opens in), and calls chosen with the
// picked folder's path; fail gets errors. Cancelling calls neither.
func showFolderPicker(keys *dialogKeys, fail func(error), chosen func(path string), prepare func(*dialog.FileDialog)) {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			fail(err)
			return
		}
		if u != nil {
			chosen(u.Path())
		}
	}, keys.win)
	prepare(d)
	d.Resize(fyne.NewSize(900, 600))
	keys.fileDialog(d)
	d.Show()
}
