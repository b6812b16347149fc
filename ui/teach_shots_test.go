//go:build shots

package ui

// The README's teach screenshots: the bundled model's station teaches the
// good strips of testdata/good-base, docs/teach.png is the report over the
// window, then Save and use, and docs/finemap.png is a defective held-out
// strip scored by the taught model with the fine map on. Run under a
// display, from the repository root:
//
//	SHOTS_DIR=$PWD/docs xvfb-run -a -s "-screen 0 1400x900x24" go test -tags shots -run TestTeachShots ./ui/

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/disintegration/imaging"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/teach"
)

func TestTeachShots(t *testing.T) {
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" || shotsApp == nil {
		t.Skip("SHOTS_DIR not set")
	}
	store, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	eng, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := filepath.Abs(goodStrips)
	if err != nil {
		t.Fatal(err)
	}
	strip, err := filepath.Abs(defectStrip)
	if err != nil {
		t.Fatal(err)
	}
	// Where a station keeps its models (os.UserConfigDir), under /tmp.
	home := filepath.Join(os.TempDir(), "steelinspect-station")
	modelsDir := filepath.Join(home, ".config", "steelinspect", "models")
	os.RemoveAll(home)
	defer os.RemoveAll(home)
	p := shotsApp.Preferences()
	p.RemoveValue(prefPass)
	p.RemoveValue(prefReject)
	p.RemoveValue(prefFineMap)
	opts := Options{
		Model: eng, Station: onTrail(store), ModelsDir: modelsDir,
		OpenModel: func(path string) (Analyzer, error) {
			if path == models.DefaultSource {
				return models.OpenDefault(inference.EngineOptions{})
			}
			return inference.OpenModel(path, inference.EngineOptions{})
		},
		Teach: func(ctx context.Context, folder, name string, progress func(teach.Progress)) (*teach.Result, error) {
			return teach.Teach(ctx, teach.Options{Good: folder, Name: name, Progress: progress})
		},
	}
	ins, shot := shotsWindow(t, opts, dir)
	defer ins.Close()
	waitFor := func(what string, cond func() bool) { waitOnUI(t, what, 3*time.Minute, cond) }
	clearOverlays := func() {
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
	}

	fyne.DoAndWait(func() {
		ins.review.setOperator("M. Keller")
		clearOverlays()
		unlockShots(ins)
	})
	waitFor("the unlock", func() bool { return !ins.isLocked() })
	fyne.DoAndWait(func() { ins.open([]source{{name: filepath.Base(strip), path: strip}}) })
	waitFor("the strip", func() bool { return ins.busy == 0 && ins.currentAnalysis() != nil })
	// The software painter clips a scroll inside a scroll to the inner
	// one only: fold the patch table away, so that the results fit
	// without scrolling and nothing is drawn over the status bar.
	fyne.DoAndWait(func() { ins.strip.details.Close(0) })
	fyne.DoAndWait(func() { ins.askTeachName(good) })
	fyne.DoAndWait(func() { test.Tap(ins.teach.startBtn) })
	waitFor("the report", func() bool { return ins.teach != nil && ins.teach.report != nil })
	shot("teach.png")
	fyne.DoAndWait(func() { test.Tap(ins.teach.saveBtn) })
	// the sign-off comes before the model goes live (no check set here:
	// defect recall unknown); Enter switches
	waitFor("the sign-off", func() bool {
		d := ins.topDialog()
		return d != nil && (ins.teach == nil || d.d != ins.teach.report) &&
			strings.Contains(strings.Join(ins.messagesShown, "\n"), "Before switching")
	})
	fyne.DoAndWait(func() { ins.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	waitFor("the taught model", func() bool {
		a := ins.currentAnalysis()
		return ins.busy == 0 && a != nil && a.Cells != nil
	})
	fyne.DoAndWait(func() {
		ins.strip.fineMap.SetChecked(true)
		ins.w.sidebar.ScrollToBottom() // the Heatmap controls
	})
	shot("finemap.png")
}

// shotsWindow opens the window on opts at 1280×720 content and returns it
// with shot, which saves the window's content as dir/name.
func shotsWindow(t *testing.T, opts Options, dir string) (*Inspector, func(name string)) {
	return shotsWindowAt(t, opts, dir, 1280, 720)
}

// shotsWindowAt is shotsWindow for a screen of w×h.
func shotsWindowAt(t *testing.T, opts Options, dir string, w, h int) (*Inspector, func(name string)) {
	var ins *Inspector
	fyne.DoAndWait(func() {
		ins = newInspector(shotsApp, opts, fyne.Do)
		ins.win.Resize(fyne.NewSize(float32(w), float32(h)))
		ins.win.Show()
	})
	// The pictures are the window's content at w×h (Mesa under Xvfb
	// reads back nothing, and the software painter draws no menu bar): make
	// the window as much larger as its menu bar and padding take.
	fitShotsWindow(ins, w, h)
	shot := func(name string) {
		time.Sleep(900 * time.Millisecond)
		fyne.DoAndWait(func() {
			ins.win.Canvas().Capture()
			ins.win.Content().Refresh()
		})
		time.Sleep(500 * time.Millisecond)
		var img image.Image
		fyne.DoAndWait(func() {
			if img = ins.win.Canvas().Capture(); isBlank(img) {
				img = renderSoftware(ins.win)
			}
		})
		// The content's height is fractional: drop the odd pixel row.
		img = imaging.Crop(img, image.Rect(0, 0, w, h))
		if err := imaging.Save(img, filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	return ins, shot
}

// fitShotsWindow sizes a screenshot window so that its content is w×h.
func fitShotsWindow(ins *Inspector, w, h int) {
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		fyne.DoAndWait(func() {
			c, in := ins.win.Canvas().Size(), ins.win.Content().Size()
			ins.win.Resize(fyne.NewSize(c.Width+float32(w)-in.Width, c.Height+float32(h)-in.Height))
		})
	}
}
