package ui

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"
)

// scheduleScreenshot saves the window to Options.Screenshot and quits,
// once, after giving the window a moment to draw.
func (i *Inspector) scheduleScreenshot() {
	if i.opts.Screenshot == "" || i.shotTaken {
		return
	}
	i.shotTaken = true
	go func() {
		time.Sleep(1500 * time.Millisecond)
		// Some GL drivers (Mesa under Xvfb) only keep a readable front
		// buffer once it has been read from: read once, redraw, read again.
		i.do(func() {
			i.win.Canvas().Capture()
			i.win.Content().Refresh()
		})
		time.Sleep(700 * time.Millisecond)
		i.do(func() {
			i.shotErr = saveCapture(i.win, i.opts.Screenshot)
			i.app.Quit()
		})
	}()
}

// saveCapture writes the window's canvas to a PNG file. When the GL
// driver cannot read its frame back (Mesa under Xvfb returns an empty
// image), the window's content is drawn again with Fyne's software
// painter instead; that picture lacks only the menu bar.
func saveCapture(w fyne.Window, path string) error {
	img := w.Canvas().Capture()
	if isBlank(img) {
		img = renderSoftware(w)
	}
	if img == nil {
		return fmt.Errorf("screenshot: the window could not be captured")
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return nil
}

// isBlank reports an image with no visible pixel: a failed GL read-back.
func isBlank(img image.Image) bool {
	if img == nil {
		return true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r|g|bl != 0 {
				return false
			}
		}
	}
	return true
}

// renderSoftware paints the window's content with the software painter,
// then gives the content back to the window.
func renderSoftware(w fyne.Window) image.Image {
	content := w.Content()
	if content == nil {
		return nil
	}
	size := content.Size()
	sc := software.NewCanvas()
	sc.SetPadded(false)
	sc.SetScale(w.Canvas().Scale())
	sc.Resize(size)
	sc.SetContent(content)
	sc.Resize(size)
	// Dialogs are overlays: paint them too, then hand them back.
	overlays := w.Canvas().Overlays().List()
	for _, o := range overlays {
		sc.Overlays().Add(o)
	}
	img := sc.Capture()
	for _, o := range overlays {
		sc.Overlays().Remove(o)
	}
	w.SetContent(content)
	return img
}
