package ui

import (
	"fmt"
	"image"
	"image/draw"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	"github.com/disintegration/imaging"

	"steelinspect/verdict"
)

// showPatchZoom opens the shown strip's patch k at 1:1 (or 2×), with the
// overlay on or off: where in the patch the defect is, at the pixels the
// model saw. A click on a patch opens it.
func (s *stripPanel) showPatchZoom(k int) {
	it, a, v := s.host.shown()
	if it == nil || a == nil || v == nil || it.display == nil || k < 0 || k >= len(a.Patches) {
		return
	}
	p := a.Patches[k]
	base := patchPixels(it.display, a.Image.Width, p)
	tinted := withOverlay(base, patchPixels(s.heatmapImage(a, v), a.Image.Width, p))

	img := canvas.NewImageFromImage(tinted)
	img.FillMode = canvas.ImageFillOriginal
	img.ScaleMode = canvas.ImageScalePixels
	double, showOverlay := widget.NewCheck("2×", nil), widget.NewCheck("Overlay", nil)
	showOverlay.SetChecked(true)
	redraw := func() {
		pic := base
		if showOverlay.Checked {
			pic = tinted
		}
		if double.Checked {
			pic = imaging.Resize(pic, 2*pic.Bounds().Dx(), 0, imaging.NearestNeighbor)
		}
		img.Image = pic
		img.Refresh()
	}
	img.Image = tinted
	double.OnChanged = func(bool) { redraw() }
	showOverlay.OnChanged = func(bool) { redraw() }
	caption := widget.NewLabel(fmt.Sprintf("Patch %d at %d,%d (%d×%d px): probability %.3f, %s",
		k, p.X, p.Y, p.W, p.H, p.Probability, patchZoneWords(v, k)))
	content := container.NewBorder(container.NewVBox(caption, container.NewHBox(double, showOverlay)), nil, nil, nil,
		container.NewScroll(container.NewCenter(img)))
	d := dialog.NewCustom(fmt.Sprintf("%s · patch %d", it.name, k), "Close", content, s.host.window())
	d.Resize(fyne.NewSize(620, 660))
	s.zoom = &zoomView{patch: k, image: img, double: double, overlay: showOverlay}
	d.SetOnClosed(func() { s.zoom = nil })
	s.host.trackDialog(d, d.Hide, d.Hide)
	d.Show()
}

// zoomView is the open patch view (tests read it).
type zoomView struct {
	patch           int
	image           *canvas.Image
	double, overlay *widget.Check
}

// patchPixels cuts patch p out of img, a picture of the whole strip (imgW
// analysis pixels wide) at its own resolution.
func patchPixels(img image.Image, imgW int, p verdict.Patch) *image.NRGBA {
	b := img.Bounds()
	s := float64(b.Dx()) / float64(imgW)
	r := image.Rect(int(math.Floor(float64(p.X)*s)), int(math.Floor(float64(p.Y)*s)),
		int(math.Ceil(float64(p.X+p.W)*s)), int(math.Ceil(float64(p.Y+p.H)*s))).Add(b.Min).Intersect(b)
	return imaging.Crop(img, r)
}

// withOverlay lays over on base, brought to base's size first (the overlay
// may be drawn smaller than the strip).
func withOverlay(base, over *image.NRGBA) *image.NRGBA {
	if over.Bounds().Size() != base.Bounds().Size() {
		over = imaging.Resize(over, base.Bounds().Dx(), base.Bounds().Dy(), imaging.NearestNeighbor)
	}
	out := image.NewNRGBA(image.Rect(0, 0, base.Bounds().Dx(), base.Bounds().Dy()))
	draw.Draw(out, out.Bounds(), base, base.Bounds().Min, draw.Src)
	draw.Draw(out, out.Bounds(), over, over.Bounds().Min, draw.Over)
	return out
}
