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
	"steelinspect/verdict"
)

// widgets are the window's parts that change after it is built.
type widgets struct {
	openBtn, demoBtn, modelBtn *widget.Button
	prevBtn, nextBtn           *widget.Button
	position                   *widget.Label
	progress                   *widget.ProgressBarInfinite
	busyLabel                  *widget.Label

	card         *canvas.Rectangle
	notValidated *widget.Label // the model in use was not checked on this line
	driftLine    *widget.Label // learning again is suggested (drift.go)
	decision     *canvas.Text
	confidence   *canvas.Text
	level        *widget.Label
	action       *widget.Label
	reinspect    *widget.Button // Re-inspect with the current model (cards.go)
	maxProb      *widget.Label
	meanProb     *widget.Label
	patchCount   *widget.Label
	zoneCount    [3]*widget.Label
	zonePercent  [3]*widget.Label
	zoneBar      [3]*canvas.Rectangle
	zoneBarTrack [3]*fyne.Container
	results      *fyne.Container
	sidebar      *container.Scroll
	body         *foldingBody // how the columns are arranged (fold.go)

	images     *widget.List
	imageCount *widget.Label
	selecting  bool

	status      *widget.Label
	statusModel *widget.Label
	statusLink  *widget.Label

	folderBtn *widget.Button
	batchBox  *fyne.Container
	batchBar  *widget.ProgressBar
	batchInfo *widget.Label
	cancelBtn *widget.Button
	filter    *widget.RadioGroup

	reportBtn, reportsBtn *widget.Button
}

// Processed list filters.
// Heatmap colour schemes.
const (
	coloursZones       = "Zones"
	coloursProbability = "Probability"
)

const (
	filterAll    = "All"
	filterReview = "Needs review"
)

var imageExtensions = inference.ImageExtensions

func (i *Inspector) buildUI() {
	w := &i.w
	i.strip.buildStrip()
	centre := container.New(&stripColumn{strip: i.strip.view, maxShare: 0.4},
		i.strip.view, i.strip.caption, i.buildResults())

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
		container.NewHBox(widget.NewSeparator(), i.buildImageList()))
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
		for idx, other := range i.items {
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
			i.review.confirm(verdict.Pass, false)
		case fyne.KeyR:
			i.review.confirm(verdict.Reject, false)
		case fyne.KeyN:
			i.review.next()
		}
	})
}

func (i *Inspector) buildResults() fyne.CanvasObject {
	w := &i.w
	w.decision = canvas.NewText("NO IMAGE", theme.Color(theme.ColorNameDisabled))
	w.decision.TextSize = 46
	w.decision.TextStyle = fyne.TextStyle{Bold: true}
	w.decision.Alignment = fyne.TextAlignCenter
	w.confidence = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	w.confidence.TextSize = 22
	w.confidence.TextStyle = fyne.TextStyle{Bold: true}
	w.confidence.Alignment = fyne.TextAlignCenter
	w.level = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	w.level.Wrapping = fyne.TextWrapWord // "Recorded as REVIEW; would be PASS now…" took the window past the screen
	w.action = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	w.action.Wrapping = fyne.TextWrapWord
	w.reinspect = widget.NewButtonWithIcon(reinspectLabel, theme.ViewRefreshIcon(), i.reinspectCurrent)
	w.reinspect.Hide()
	w.card = canvas.NewRectangle(color.Transparent)
	w.card.CornerRadius = 10
	w.card.StrokeWidth = 3
	card := container.NewStack(w.card, container.NewPadded(container.NewVBox(layout.NewSpacer(),
		w.decision, w.confidence, w.level, w.action, w.reinspect, i.review.box, layout.NewSpacer())))

	w.maxProb = valueLabel()
	w.meanProb = valueLabel()
	w.patchCount = valueLabel()
	metrics := container.NewVBox(heading("Metrics"),
		container.New(layout.NewFormLayout(),
			widget.NewLabel("Max probability"), w.maxProb,
			widget.NewLabel("Mean probability"), w.meanProb,
			widget.NewLabel("Patches"), w.patchCount))

	zoneNames := [3]string{"Auto-Pass", "Manual Review", "Auto-Reject"}
	zones := container.NewVBox(heading("Zone breakdown"))
	for z := range 3 {
		w.zoneCount[z] = valueLabel()
		w.zonePercent[z] = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		w.zoneBar[z] = canvas.NewRectangle(zoneColor(verdict.Zone(z)))
		w.zoneBar[z].CornerRadius = 3
		track := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
		track.CornerRadius = 3
		w.zoneBarTrack[z] = container.New(&barLayout{}, track, w.zoneBar[z])
		name := container.NewHBox(swatchBox(zoneColor(verdict.Zone(z)), 14), widget.NewLabel(zoneNames[z]))
		zones.Add(container.NewBorder(nil, nil, name,
			container.NewHBox(w.zoneCount[z], w.zonePercent[z]), w.zoneBarTrack[z]))
	}

	details := i.strip.buildDetails()
	beside := &cardBeside{wide: true}
	top := container.New(beside, card,
		container.NewPadded(container.NewVBox(metrics, widget.NewSeparator(), zones)))
	// The open patch table takes the height left under the card and
	// scrolls inside itself; on a short screen (1280×720) the results
	// scroll as a whole instead of setting the window's minimum height.
	w.notValidated = widget.NewLabelWithStyle(notValidatedText, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.notValidated.Wrapping = fyne.TextWrapWord
	w.notValidated.Importance = widget.WarningImportance
	w.notValidated.Hide() // until the trail says (refreshValidation)
	w.driftLine = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.driftLine.Wrapping = fyne.TextWrapWord
	w.driftLine.Importance = widget.WarningImportance
	w.driftLine.Hide()
	w.results = container.NewBorder(container.NewVBox(w.notValidated, w.driftLine, top), nil, nil, nil, details)
	// the card's figures moved under it (or back): the results take the new height
	beside.changed = func() { i.do(w.results.Refresh) }
	return container.NewVScroll(w.results)
}

func (i *Inspector) buildImageList() fyne.CanvasObject {
	w := &i.w
	w.images = widget.NewList(
		func() int { return len(i.visible) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("strip-name.jpg")
			name.Truncation = fyne.TextTruncateEllipsis
			dec := widget.NewLabelWithStyle(verdict.Review.String(), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
			return container.NewBorder(nil, nil, swatchBox(color.Transparent, 12), dec, name)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(i.visible) {
				return
			}
			it := i.items[i.visible[id]]
			c := o.(*fyne.Container)
			name := c.Objects[0].(*widget.Label)
			sw := c.Objects[1].(*fyne.Container).Objects[0].(*canvas.Rectangle)
			dec := c.Objects[2].(*widget.Label)
			name.SetText(it.name)
			d, ok := i.decisionOf(it)
			if it.review != nil {
				od := it.review.decision
				sw.FillColor = decisionColor(od)
				dec.SetText(it.review.decision.String() + " ✓")
				dec.Importance = decisionImportance(od)
			} else if !ok {
				sw.FillColor = theme.Color(theme.ColorNameDisabled)
				dec.SetText("…")
				dec.Importance = widget.LowImportance
			} else {
				sw.FillColor = decisionColor(d)
				dec.SetText(d.String())
				dec.Importance = decisionImportance(d)
			}
			sw.Refresh()
			dec.Refresh()
		})
	w.images.OnSelected = func(id widget.ListItemID) {
		if w.selecting || id >= len(i.visible) {
			return
		}
		// Give the keys back to the window: P, R and N reach it only
		// while no widget has the focus.
		i.win.Canvas().Unfocus()
		if k := i.visible[id]; k != i.current {
			i.showItem(k)
		}
	}
	w.imageCount = widget.NewLabel("")
	w.imageCount.Wrapping = fyne.TextWrapWord // the shift's counts were cut at the panel's edge ("… 7 R")
	w.filter = widget.NewRadioGroup([]string{filterAll, filterReview}, func(s string) {
		i.setReviewFilter(s == filterReview)
	})
	w.filter.Required = true // one above the other: side by side they ran past the panel's edge
	w.filter.Selected = filterAll
	panel := container.NewVBox(widget.NewSeparator(), i.models.build(i))
	list := container.New(&listOverPanel{panelContent: panel},
		container.NewVBox(heading("Processed"), w.filter, w.imageCount), w.images, container.NewVScroll(panel))
	return container.New(&fixedWidth{width: 250}, list)
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
func (i *Inspector) decisionOf(it *item) (verdict.Decision, bool) {
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

// disposition is the shown strip's headline decision and what the card
// says beneath it: once a strip is recorded, its recorded automatic
// decision, or the operator's over it (verdict.Final); a threshold moved
// since never relabels it, the card only says what the current thresholds
// would give. Without an audit record (--no-audit), the verdict at the
// current thresholds.
func (i *Inspector) disposition(v *verdict.Verdict) (verdict.Decision, string) {
	it := i.currentItem()
	if it == nil || it.auditID == 0 {
		return v.Decision, "" // not recorded (no audit trail): the thresholds decide live
	}
	recorded := it.auto
	var note string
	final := it.final()
	if final != recorded {
		note += fmt.Sprintf("\nAutomatic decision: %s, overridden by %s", recorded, it.review.operator)
	}
	if v.Decision != recorded {
		note += fmt.Sprintf("\nRecorded as %s; would be %s now (current model and thresholds)", recorded, v.Decision)
	}
	return final, note
}

// refreshResult fills the result card, metrics, zone breakdown and table
// from the held verdict.
func (i *Inspector) refreshResult() {
	w := &i.w
	v := i.verdict
	if v == nil {
		w.decision.Text = "NO IMAGE"
		w.decision.Color = theme.Color(theme.ColorNameDisabled)
		w.confidence.Text = "Open a strip to inspect it"
		w.level.SetText("")
		w.action.SetText("")
		w.reinspect.Hide()
		w.card.FillColor = color.Transparent
		w.card.StrokeColor = theme.Color(theme.ColorNameSeparator)
		for _, l := range []*widget.Label{w.maxProb, w.meanProb, w.patchCount} {
			l.SetText("–")
		}
		for z := range 3 {
			w.zoneCount[z].SetText("–")
			w.zonePercent[z].SetText("")
			w.zoneBarTrack[z].Objects[1].(*canvas.Rectangle).Hide()
		}
	} else {
		final, note := i.disposition(v)
		c := decisionColor(final)
		w.decision.Text = final.String()
		w.decision.Color = c
		w.confidence.Text = fmt.Sprintf("Defect score %.1f %%", 100*v.Confidence) + likelyClassText(i.currentAnalysis(), v)
		w.level.SetText(v.ConfidenceLevel + " confidence" + note)
		action, of := i.cardAction(final, v)
		w.action.SetText(action)
		w.action.Importance = decisionImportance(of)
		w.action.Refresh()
		i.refreshReinspect(v)
		fill := c
		fill.A = 0x30
		w.card.FillColor = fill
		w.card.StrokeColor = c
		w.maxProb.SetText(fmt.Sprintf("%.1f %%", 100*v.Confidence))
		w.meanProb.SetText(fmt.Sprintf("%.1f %%", 100*v.MeanProbability))
		w.patchCount.SetText(fmt.Sprintf("%d", len(v.Zones)))
		counts := [3]int{v.Counts.AutoPass, v.Counts.ManualReview, v.Counts.AutoReject}
		pct := [3]float64{v.Percents.AutoPass, v.Percents.ManualReview, v.Percents.AutoReject}
		for z := range 3 {
			w.zoneCount[z].SetText(fmt.Sprintf("%d", counts[z]))
			w.zonePercent[z].SetText(fmt.Sprintf("%5.1f %%", pct[z]))
			bar := w.zoneBarTrack[z]
			bar.Layout.(*barLayout).share = float32(pct[z] / 100)
			bar.Objects[1].(*canvas.Rectangle).Show()
			bar.Refresh()
		}
	}
	w.decision.Refresh()
	w.confidence.Refresh()
	w.card.Refresh()
	i.strip.refresh()
	i.refreshRunMode()
}

// likelyClassText names the strip's most likely defect class after its
// score (" · most likely class 3, 2 patches"), for a station model that
// gives classes; "" otherwise.
func likelyClassText(a *inference.Analysis, v *verdict.Verdict) string {
	if a == nil || v == nil {
		return ""
	}
	class, n := verdict.LikelyClass(a.Patches, v.Zones)
	switch {
	case class == "":
		return ""
	case n == 1:
		return " · most likely " + class
	}
	return fmt.Sprintf(" · most likely %s, %d patches", class, n)
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
	n := len(i.items)
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

func (i *Inspector) refreshImageCount() {
	switch n := len(i.items); n {
	case 0:
		i.w.imageCount.SetText("None loaded yet")
	case 1:
		i.w.imageCount.SetText("1 image")
	default:
		i.w.imageCount.SetText(fmt.Sprintf("%d images · ←/→ to browse", n))
	}
	if i.store != nil && len(i.items) > 0 {
		i.w.imageCount.SetText(i.w.imageCount.Text + "\n" + i.summarize(time.Now()).String())
	}
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

func zoneTitle(z verdict.Zone) string {
	return [...]string{"auto-pass (green)", "manual review (orange)", "auto-reject (red)"}[z]
}

func decisionImportance(d verdict.Decision) widget.Importance {
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
