package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The main window's three columns (settings, strip and card, Processed
// list) give way in a set order on a screen too narrow for all three: the
// patch table first (it sits in the centre's scroll), then the settings
// column folds away behind a tab at the left edge, then the Processed
// column behind one at the right. A tab opens its column over the centre
// until it is tapped again. The window then never asks for more than the
// centre's width and the two tabs.

// foldingBody lays out the window's body: objects are centre, right,
// left, leftTab, rightTab (a column drawn over the centre comes after it).
type foldingBody struct {
	// leftOpen and rightOpen are a folded column opened over the centre
	// by its tab.
	leftOpen, rightOpen bool
	// folded records the last arrangement, for tests and to show and hide
	// only on a change.
	leftFolded, rightFolded bool
}

const (
	bodyCentre = iota
	bodyRight
	bodyLeft
	bodyLeftTab
	bodyRightTab
)

func (l *foldingBody) MinSize(objs []fyne.CanvasObject) fyne.Size {
	c := objs[bodyCentre].MinSize()
	tabs := objs[bodyLeftTab].MinSize().Width + objs[bodyRightTab].MinSize().Width
	h := max(c.Height, objs[bodyLeftTab].MinSize().Height)
	return fyne.NewSize(c.Width+tabs, h)
}

func (l *foldingBody) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	left, right := objs[bodyLeft].MinSize().Width, objs[bodyRight].MinSize().Width
	centre := objs[bodyCentre].MinSize().Width
	leftTab, rightTab := objs[bodyLeftTab].MinSize().Width, objs[bodyRightTab].MinSize().Width
	l.leftFolded = size.Width < left+centre+right
	l.rightFolded = size.Width < leftTab+centre+right
	var x0, x1 float32
	if l.leftFolded {
		showIf(objs[bodyLeftTab], true)
		objs[bodyLeftTab].Move(fyne.NewPos(0, 0))
		objs[bodyLeftTab].Resize(fyne.NewSize(leftTab, size.Height))
		x0 = leftTab
	} else {
		showIf(objs[bodyLeftTab], false)
		x0 = left
	}
	if l.rightFolded {
		showIf(objs[bodyRightTab], true)
		objs[bodyRightTab].Move(fyne.NewPos(size.Width-rightTab, 0))
		objs[bodyRightTab].Resize(fyne.NewSize(rightTab, size.Height))
		x1 = size.Width - rightTab
	} else {
		showIf(objs[bodyRightTab], false)
		x1 = size.Width - right
	}
	objs[bodyCentre].Move(fyne.NewPos(x0, 0))
	objs[bodyCentre].Resize(fyne.NewSize(x1-x0, size.Height))
	// a column in place, or folded and opened over the centre by its tab
	showIf(objs[bodyLeft], !l.leftFolded || l.leftOpen)
	objs[bodyLeft].Move(fyne.NewPos(x0-left*b2f(!l.leftFolded), 0))
	objs[bodyLeft].Resize(fyne.NewSize(left, size.Height))
	showIf(objs[bodyRight], !l.rightFolded || l.rightOpen)
	objs[bodyRight].Move(fyne.NewPos(x1-right*b2f(l.rightFolded), 0))
	objs[bodyRight].Resize(fyne.NewSize(right, size.Height))
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// showIf shows or hides o, touching it only on a change (a layout calls
// it on every pass).
func showIf(o fyne.CanvasObject, visible bool) {
	if o.Visible() != visible {
		if visible {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// newFoldingBody puts the three columns together, with the tabs that open
// a folded one.
func newFoldingBody(left, centre, right fyne.CanvasObject) (*fyne.Container, *foldingBody) {
	l := &foldingBody{}
	c := &fyne.Container{Layout: l}
	tab := func(icon fyne.Resource, open *bool) *widget.Button {
		b := widget.NewButtonWithIcon("", icon, nil)
		b.Importance = widget.LowImportance
		b.OnTapped = func() {
			*open = !*open
			c.Refresh()
		}
		return b
	}
	leftTab := tab(theme.SettingsIcon(), &l.leftOpen)
	rightTab := tab(theme.ListIcon(), &l.rightOpen)
	leftTab.Hide()
	rightTab.Hide()
	// a column opened over the centre covers it
	opaque := func(o fyne.CanvasObject) fyne.CanvasObject {
		return container.NewStack(canvas.NewRectangle(theme.Color(theme.ColorNameBackground)), o)
	}
	c.Objects = []fyne.CanvasObject{centre, opaque(right), opaque(left), leftTab, rightTab}
	return c, l
}
