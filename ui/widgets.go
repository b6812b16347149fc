package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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

func (i *Inspector) stride() int {
	if i.models.manifest != nil {
		return i.models.manifest.Input.Stride
	}
	return 0
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
