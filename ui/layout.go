package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// stripColumn lays out the centre column: the strip on top, as tall as its
// width asks for (at most maxShare of the height), then a caption line,
// then the rest (the scrollable results) filling what is left. A layout
// knows the width it gets, which the standard ones cannot pass on as a
// height.
type stripColumn struct {
	strip    *stripView
	maxShare float32
}

// Layout places strip, caption and rest.
func (l *stripColumn) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 3 {
		return
	}
	pad := theme.Padding()
	caption, rest := objs[1], objs[2]
	h := size.Width * l.strip.aspect()
	h = min(h, size.Height*l.maxShare)
	h = max(h, l.strip.MinSize().Height)
	l.strip.Move(fyne.NewPos(0, 0))
	l.strip.Resize(fyne.NewSize(size.Width, h))
	ch := caption.MinSize().Height
	caption.Move(fyne.NewPos(0, h+pad))
	caption.Resize(fyne.NewSize(size.Width, ch))
	y := h + pad + ch + pad
	rest.Move(fyne.NewPos(0, y))
	rest.Resize(fyne.NewSize(size.Width, max(0, size.Height-y)))
}

// MinSize is the sum of the three minimum heights.
func (l *stripColumn) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s.AddWidthHeight(0, 2*theme.Padding())
}

// fixedHeight gives its objects at least a given height, e.g. a table
// inside a scrolling column, whose own minimum is a single row.
type fixedHeight struct{ height func() float32 }

// Layout stretches every object over the whole area.
func (l *fixedHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// MinSize is the objects' widest minimum at the fixed height.
func (l *fixedHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	for _, o := range objs {
		w = max(w, o.MinSize().Width)
	}
	return fyne.NewSize(w, l.height())
}

// tightColumn stacks objects vertically with no padding between them, for
// a caption line under a heading line.
type tightColumn struct{}

// Layout stacks the objects at their minimum heights.
func (tightColumn) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - theme.Padding()
	}
}

// MinSize is the widest object and the summed heights less the padding
// each label carries inside.
func (tightColumn) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height - theme.Padding()
	}
	return s.AddWidthHeight(0, theme.Padding())
}

// withinMainWindow is want, made no larger than the main window, which
// fits its screen: a secondary window (History, Calibrate) opened at a
// fixed 1240×820 or 1320×700 ran past a 1280×720 screen, its Apply button
// below the edge.
func (i *Inspector) withinMainWindow(want fyne.Size) fyne.Size {
	main := i.win.Canvas().Size()
	if main.Width <= 0 || main.Height <= 0 {
		return want
	}
	return fyne.NewSize(min(want.Width, main.Width), min(want.Height, main.Height))
}

// cardBeside lays the result card and its figures side by side, each half
// the width, when the width holds both; on a narrower window the figures
// go under the card. A two-column grid asked for twice the card's width
// (its button row), which alone took the window past a 1280-px screen.
type cardBeside struct {
	wide bool
	// changed is called when the arrangement flips, for the parent to
	// take the new height.
	changed func()
}

func (l *cardBeside) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 2 {
		return fyne.Size{}
	}
	a, b := objs[0].MinSize(), objs[1].MinSize()
	if l.wide {
		return fyne.NewSize(max(a.Width, b.Width), max(a.Height, b.Height))
	}
	return fyne.NewSize(max(a.Width, b.Width), a.Height+theme.Padding()+b.Height)
}

func (l *cardBeside) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 2 {
		return
	}
	pad := theme.Padding()
	a, b := objs[0].MinSize(), objs[1].MinSize()
	half := (size.Width - pad) / 2
	wide := half >= a.Width && half >= b.Width
	if wide {
		objs[0].Move(fyne.NewPos(0, 0))
		objs[0].Resize(fyne.NewSize(half, size.Height))
		objs[1].Move(fyne.NewPos(half+pad, 0))
		objs[1].Resize(fyne.NewSize(half, size.Height))
	} else {
		objs[0].Move(fyne.NewPos(0, 0))
		objs[0].Resize(fyne.NewSize(size.Width, a.Height))
		objs[1].Move(fyne.NewPos(0, a.Height+pad))
		objs[1].Resize(fyne.NewSize(size.Width, b.Height))
	}
	if wide != l.wide {
		l.wide = wide
		if l.changed != nil {
			l.changed()
		}
	}
}

// listOverPanel stacks the Processed column: its heading on top, the list,
// and the model panel under it. The panel takes its natural height up to
// panelShare of what the heading leaves, and scrolls beyond it; the list
// keeps the rest. (With the panel at its full height, a 1280×720 window
// left the list a sliver: one strip's row cut in half.) objects: top,
// list, panel (a scroll around panelContent).
type listOverPanel struct {
	panelContent fyne.CanvasObject
}

// panelShare is the most of the column's height below its heading the
// model panel takes; listMinHeight and panelMinHeight are what each keeps
// at least.
const (
	panelShare     = 0.55
	listMinHeight  = 110
	panelMinHeight = 120
)

func (l *listOverPanel) MinSize(objs []fyne.CanvasObject) fyne.Size {
	top := objs[0].MinSize()
	w := max(top.Width, objs[1].MinSize().Width, l.panelContent.MinSize().Width)
	return fyne.NewSize(w, top.Height+listMinHeight+panelMinHeight+2*theme.Padding())
}

func (l *listOverPanel) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	// the top holds a wrapping label (the count with the shift's summary),
	// whose height is known only once it has its width: give it the width
	// first, then measure
	objs[0].Resize(fyne.NewSize(size.Width, objs[0].MinSize().Height))
	topH := objs[0].MinSize().Height
	rest := max(0, size.Height-topH-2*pad)
	panelH := min(l.panelContent.MinSize().Height, max(panelMinHeight, panelShare*rest))
	listH := max(0, rest-panelH)
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(size.Width, topH))
	objs[1].Move(fyne.NewPos(0, topH+pad))
	objs[1].Resize(fyne.NewSize(size.Width, listH))
	objs[2].Move(fyne.NewPos(0, topH+pad+listH+pad))
	objs[2].Resize(fyne.NewSize(size.Width, panelH))
}
