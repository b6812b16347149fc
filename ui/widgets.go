package ui

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/assets"
	"steelinspect/inference"
)

// widgets are the window's parts that change after it is built.
type widgets struct {
	openBtn, demoBtn, modelBtn *widget.Button
	prevBtn, nextBtn           *widget.Button
	position                   *widget.Label
	progress                   *widget.ProgressBarInfinite
	busyLabel                  *widget.Label

	sidebar *container.Scroll
	body    *foldingBody // how the columns are arranged (fold.go)

	status      *widget.Label
	statusModel *widget.Label
	statusLink  *widget.Label

	folderBtn *widget.Button
	batchBox  *fyne.Container
	batchBar  *widget.ProgressBar
	batchInfo *widget.Label
	cancelBtn *widget.Button

	reportBtn, reportsBtn *widget.Button
}

// Heatmap colour schemes.
const (
	coloursZones       = "Zones"
	coloursProbability = "Probability"
)

var imageExtensions = inference.ImageExtensions

func (i *Inspector) buildUI() {
	w := &i.w
	i.strip.buildStrip()
	centre := container.New(&stripColumn{strip: i.strip.view, maxShare: 0.4},
		i.strip.view, i.strip.caption, i.card.build(i.review.box, i.strip.buildDetails()))

	w.sidebar = container.NewVScroll(container.NewVBox(
		i.settings.build(), widget.NewSeparator(),
		i.settings.buildLogicTable(), widget.NewSeparator(),
		i.strip.buildOverlayControls(),
	))
	w.sidebar.SetMinSize(fyne.NewSize(300, 0))

	// the columns give way on a narrow screen: the settings column folds
	// first, then the Processed list (fold.go)
	body, fold := newFoldingBody(
		container.NewHBox(w.sidebar, widget.NewSeparator()),
		container.NewPadded(centre),
		container.NewHBox(widget.NewSeparator(),
			i.processed.build(container.NewVBox(widget.NewSeparator(), i.models.build()))))
	w.body = fold

	content := container.NewBorder(
		container.NewVBox(i.buildToolbar(), i.buildStationBar(), widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), i.buildStatusBar()),
		nil, nil, body)
	i.win.SetContent(content)
	i.win.SetMainMenu(i.buildMenu())
	i.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { i.openURIs(uris) })
	i.bindKeys()

	i.settings.syncSliders()
	i.refreshLock()
	i.models.refresh()
	i.refreshStatus()
	i.redecide()
	i.refreshBusy()
	i.refreshNav()
	i.refreshStatus()
}

func (i *Inspector) buildToolbar() fyne.CanvasObject {
	w := &i.w
	w.openBtn = widget.NewButtonWithIcon("Open image…", theme.FolderOpenIcon(), i.showOpenDialog)
	w.openBtn.Importance = widget.HighImportance
	w.demoBtn = widget.NewButtonWithIcon("Demo strips", theme.MenuDropDownIcon(), nil)
	w.demoBtn.OnTapped = func() {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(w.demoBtn)
		menu := widget.NewPopUpMenu(i.demoMenu(), i.win.Canvas())
		menu.ShowAtPosition(pos.AddXY(0, w.demoBtn.Size().Height))
	}
	w.modelBtn = widget.NewButtonWithIcon("Open model…", theme.StorageIcon(), i.showModelDialog)
	if i.opts.OpenModel == nil {
		w.modelBtn.Hide()
	}
	calibrate := widget.NewButtonWithIcon("Calibrate…", theme.GridIcon(), i.showCalibrate)
	w.prevBtn = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), i.previous)
	w.nextBtn = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), i.next)
	w.position = widget.NewLabel("")
	w.folderBtn = widget.NewButtonWithIcon("Open folder…", theme.FolderIcon(), i.showFolderDialog)
	w.progress = widget.NewProgressBarInfinite()
	w.busyLabel = widget.NewLabel("Analysing…")
	busy := container.NewHBox(w.busyLabel, container.NewGridWrap(fyne.NewSize(160, w.progress.MinSize().Height), w.progress))
	w.batchBar = widget.NewProgressBar()
	w.batchBar.TextFormatter = func() string {
		return fmt.Sprintf("%d / %d", i.batch.done, i.batch.total)
	}
	w.batchInfo = widget.NewLabel("")
	w.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), i.cancelBatch)
	w.batchBox = container.NewHBox(container.NewGridWrap(fyne.NewSize(200, w.batchBar.MinSize().Height), w.batchBar),
		w.batchInfo, w.cancelBtn)
	w.batchBox.Hide()
	// a batch's progress takes a row of its own while it runs: beside the
	// buttons it took the window past a 1280-px screen (1302 px, 1426 with
	// Open model…)
	return container.NewVBox(
		container.NewHBox(w.openBtn, w.folderBtn, w.demoBtn, w.modelBtn, calibrate, widget.NewSeparator(),
			w.prevBtn, w.position, w.nextBtn, layout.NewSpacer(), busy),
		w.batchBox)
}

func (i *Inspector) demoMenu() *fyne.Menu {
	demos := assets.DemoStrips()
	items := make([]*fyne.MenuItem, 0, len(demos)+2)
	for _, d := range demos {
		items = append(items, fyne.NewMenuItem(d.Name, func() {
			if i.busy == 0 {
				i.openDemos([]assets.Demo{d})
			}
		}))
	}
	if len(demos) > 1 {
		items = append(items, fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem(fmt.Sprintf("All %d demo strips", len(demos)), func() {
				if i.busy == 0 {
					i.openDemos(demos)
				}
			}))
	}
	if len(demos) == 0 {
		none := fyne.NewMenuItem("No demo strips bundled", nil)
		none.Disabled = true
		items = append(items, none)
	}
	return fyne.NewMenu("Demo strips", items...)
}

func (i *Inspector) buildMenu() *fyne.MainMenu {
	open := fyne.NewMenuItem("Open image…", i.showOpenDialog)
	open.Shortcut = openShortcut
	file := fyne.NewMenu("File", open)
	if i.opts.OpenModel != nil {
		file.Items = append(file.Items, fyne.NewMenuItem("Open model…", i.showModelDialog))
		if i.canTeach() {
			file.Items = append(file.Items, fyne.NewMenuItem("Teach good steel…", i.showTeach))
		}
		if i.canLearn() {
			file.Items = append(file.Items, fyne.NewMenuItem("Learn from decisions…", i.showLearn))
		}
		if i.models.previous != nil {
			file.Items = append(file.Items, fyne.NewMenuItem("Back to "+i.models.previous.name, i.backToPrevious))
		}
	}
	file.Items = append(file.Items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Calibrate thresholds…", i.showCalibrate))
	if i.store != nil {
		file.Items = append(file.Items, fyne.NewMenuItem("Line connection…", i.showLineSettings))
	}
	undo := fyne.NewMenuItem("Undo my last decision", i.undoLastDecision)
	undo.Shortcut = undoShortcut
	edit := fyne.NewMenu("Edit", undo)
	next := fyne.NewMenuItem("Next image", i.next)
	next.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyPageDown}
	prev := fyne.NewMenuItem("Previous image", i.previous)
	prev.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyPageUp}
	run := fyne.NewMenuItem("Run mode", i.toggleRunMode)
	run.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyF11}
	view := fyne.NewMenu("View", next, prev, fyne.NewMenuItemSeparator(), run)
	if i.hasUsers {
		// a station with named users records production: demo strips
		// have no place in its trail
		return fyne.NewMainMenu(file, edit, view)
	}
	return fyne.NewMainMenu(file, edit, i.demoMenu(), view)
}

var (
	openShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	undoShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyZ, Modifier: fyne.KeyModifierShortcutDefault}
)

// undoLastDecision takes back the last P/R made in this window and shows
// the strip it was made on, which waits for a decision again.
func (i *Inspector) undoLastDecision() {
	if it := i.review.lastDecided; it != nil && i.topDialog() == nil {
		for idx, other := range i.processed.items {
			if other == it && idx != i.current {
				i.showItem(idx)
				break
			}
		}
	}
	i.review.undoLast()
}

func (i *Inspector) bindKeys() {
	c := i.win.Canvas()
	c.AddShortcut(openShortcut, func(fyne.Shortcut) { i.showOpenDialog() })
	c.AddShortcut(undoShortcut, func(fyne.Shortcut) { i.undoLastDecision() })
	// the toolkit turns Ctrl+Z into its own Undo shortcut before it looks
	// for ours: without this one Ctrl+Z did nothing
	c.AddShortcut(&fyne.ShortcutUndo{}, func(fyne.Shortcut) { i.undoLastDecision() })
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if i.dialogKey(ev) {
			return // a dialog is open: Enter and Esc are its, and no key acts on the strip behind it
		}
		switch ev.Name {
		case fyne.KeyF11:
			i.toggleRunMode()
		case fyne.KeyEscape:
			if i.run.on {
				i.toggleRunMode()
			}
		case fyne.KeyRight, fyne.KeyPageDown, fyne.KeyDown:
			i.next()
		case fyne.KeyLeft, fyne.KeyPageUp, fyne.KeyUp:
			i.previous()
		case fyne.KeyP:
			i.review.confirm(inference.Pass, false)
		case fyne.KeyR:
			i.review.confirm(inference.Reject, false)
		case fyne.KeyN:
			i.review.next()
		}
	})
}

func (i *Inspector) buildStatusBar() fyne.CanvasObject {
	w := &i.w
	w.status = widget.NewLabel("")
	w.status.Truncation = fyne.TextTruncateEllipsis
	w.statusModel = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{})
	w.statusModel.Importance = widget.LowImportance
	w.statusLink = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{})
	w.statusLink.Importance = widget.LowImportance
	w.statusLink.Hide()
	return container.NewBorder(nil, nil, nil, container.NewHBox(w.statusLink, w.statusModel), w.status)
}

// linkStatusEvery is how often the line connection's state is read.
const linkStatusEvery = 2 * time.Second

// followLink shows the station's line connections in the status bar until the window
// closes: a station whose line connection is down says so where the
// operator looks.
func (i *Inspector) followLink() {
	if i.linkFollowed {
		return
	}
	if _, _, on := i.linkStatus(); !on {
		return
	}
	i.linkFollowed = true
	i.bg.Add(1)
	go func() {
		defer i.bg.Done()
		t := time.NewTicker(linkStatusEvery)
		defer t.Stop()
		for {
			i.do(i.showLinkStatus)
			select {
			case <-i.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// showLinkStatus shows the line connection's state in the status bar.
func (i *Inspector) showLinkStatus() {
	l := i.w.statusLink
	s, up, on := i.linkStatus()
	if !on {
		l.Hide()
		return
	}
	l.Importance = widget.WarningImportance
	if up {
		l.Importance = widget.LowImportance
	}
	l.SetText(s)
	l.Show()
}

// reportSettings tells the station the model and thresholds in force,
// which its line outputs say (Station.SetState).
func (i *Inspector) reportSettings() {
	if i.models.manifest == nil {
		return
	}
	i.st.SetState(i.models.manifest.Identity(), i.settings.Thresholds())
}

// decisionOf is an item's decision for the Processed list: the recorded
// one once it is in the audit trail (a threshold or model change never
// relabels it), else the current thresholds' when its analysis is fresh.
func (i *Inspector) decisionOf(it *item) (inference.Decision, bool) {
	if it.auditID != 0 {
		return it.auto, true
	}
	if !i.isFresh(it) {
		return 0, false
	}
	v, err := it.analysis.Decide(i.settings.Thresholds())
	if err != nil {
		return 0, false
	}
	return v.Decision, true
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

func (i *Inspector) stride() int {
	if i.models.manifest != nil {
		return i.models.manifest.Input.Stride
	}
	return 0
}

// refreshResult fills the result card and the strip's table and caption
// from the held verdict, and the floor's view.
func (i *Inspector) refreshResult() {
	i.card.refresh()
	i.strip.refresh()
	i.refreshRunMode()
}

func (i *Inspector) refreshBusy() {
	w := &i.w
	if w.progress == nil {
		return
	}
	if i.busy > 0 {
		// A batch shows its own progress bar; the spinner is for the rest.
		if i.batchShown() {
			w.progress.Stop()
			w.progress.Hide()
			w.busyLabel.Hide()
		} else {
			w.progress.Show()
			w.progress.Start()
			w.busyLabel.Show()
		}
		w.openBtn.Disable()
		w.folderBtn.Disable()
		w.demoBtn.Disable()
	} else {
		w.progress.Stop()
		w.progress.Hide()
		w.busyLabel.Hide()
		w.openBtn.Enable()
		w.folderBtn.Enable()
		w.demoBtn.Enable()
	}
	i.refreshLock()
}

func (i *Inspector) refreshNav() {
	w := &i.w
	n := len(i.processed.items)
	if n == 0 {
		w.position.SetText("")
	} else {
		w.position.SetText(fmt.Sprintf("%d / %d", i.current+1, n))
	}
	if i.current > 0 {
		w.prevBtn.Enable()
	} else {
		w.prevBtn.Disable()
	}
	if i.current >= 0 && i.current < n-1 {
		w.nextBtn.Enable()
	} else {
		w.nextBtn.Disable()
	}
}

// refreshImageCount says how many strips the Processed list holds; the
// navigation follows.
func (i *Inspector) refreshImageCount() {
	i.processed.refreshCount()
	i.refreshNav()
}

func (i *Inspector) setStatus(s string) { i.w.status.SetText(s) }

// refreshStatus shows the shown image's file facts and timings.
func (i *Inspector) refreshStatus() {
	w := &i.w
	if i.models.manifest != nil {
		w.statusModel.SetText(fmt.Sprintf("Model %s · %s", i.modelName(), i.models.manifest.Identity().ShortHash()))
	}
	it := i.currentItem()
	if it == nil || it.analysis == nil {
		w.status.SetText("Ready. Drop strip images on the window, press Ctrl+O, or open a demo strip.")
		i.refreshImageCount()
		return
	}
	a := it.analysis
	w.status.SetText(fmt.Sprintf("%s   %d×%d %s   %s   decode %.1f ms · inference %.1f ms · total %.1f ms",
		it.name, a.Image.Width, a.Image.Height, strings.ToUpper(a.Image.Format), humanBytes(a.Image.Bytes),
		a.Timings.DecodeMS, a.Timings.InferenceMS, a.Timings.TotalMS))
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

func zoneTitle(z inference.Zone) string {
	return [...]string{"auto-pass (green)", "manual review (orange)", "auto-reject (red)"}[z]
}

func decisionImportance(d inference.Decision) widget.Importance {
	return [...]widget.Importance{widget.SuccessImportance, widget.WarningImportance, widget.DangerImportance}[d]
}

func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

func valueLabel() *widget.Label {
	return widget.NewLabelWithStyle("–", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
}

// swatch is a small square of colour.
func swatch(c color.Color, side float32) *canvas.Rectangle {
	r := canvas.NewRectangle(c)
	r.CornerRadius = 3
	r.SetMinSize(fyne.NewSize(side, side))
	return r
}

// swatchBox is a swatch kept square inside a stretching layout.
func swatchBox(c color.Color, side float32) *fyne.Container {
	return container.NewCenter(swatch(c, side))
}
