package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"steelinspect/assets"
	"steelinspect/verdict"
)

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
			i.review.confirm(verdict.Pass, false)
		case fyne.KeyR:
			i.review.confirm(verdict.Reject, false)
		case fyne.KeyN:
			i.review.next()
		}
	})
}
