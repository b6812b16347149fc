//go:build shots

package ui

// The README's pictures of every view at the two screens a station has
// (1280×720 and 1920×1080), in the real window with the bundled model:
// setup (the main window with a REJECT strip on the card), the operator's
// sign-in, Calibrate scored on the held-out strips, History with a row's
// strip shown, and run mode. Run under a display, from the repository
// root:
//
//	SHOTS_DIR=$PWD/docs/views xvfb-run -a -s "-screen 0 2000x1200x24" go test -tags shots -run TestViewShots ./ui/

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/disintegration/imaging"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/verdict"
)

func TestViewShots(t *testing.T) {
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" || shotsApp == nil {
		t.Skip("SHOTS_DIR not set")
	}
	for _, size := range []image.Point{{1280, 720}, {1920, 1080}} {
		viewShots(t, dir, size.X, size.Y)
	}
}

func viewShots(t *testing.T, dir string, w, h int) {
	eng, err := models.OpenDefault(inference.EngineOptions{}) // the window closes it with itself
	if err != nil {
		t.Fatal(err)
	}
	store, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if err := store.AddUser(ctx, "screenshots", "M. Keller", audit.RoleOperator, "keller-pw-2026"); err != nil {
		t.Fatal(err)
	}
	var srcs []source
	for _, name := range []string{"clean-2.jpg", "scratches.jpg", "pitting.jpg"} {
		p, err := filepath.Abs(filepath.Join("..", "assets", "demo", name))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, source{name: name, path: p})
	}
	suffix := fmt.Sprintf("-%dx%d.png", w, h)
	ins, shot := shotsWindowAt(t, Options{Model: eng, Station: onTrail(store)}, dir, w, h)
	defer ins.Close()
	waitFor := func(what string, cond func() bool) { waitOnUI(t, what, 3*time.Minute, cond) }
	clearOverlays := func() {
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
	}
	fyne.DoAndWait(func() {
		clearOverlays()
		ins.review.askSignIn(false)
	})
	time.Sleep(500 * time.Millisecond)
	shot("signin" + suffix)
	fyne.DoAndWait(func() {
		clearOverlays()
		ins.review.setOperator("M. Keller")
		ins.open(srcs)
	})
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		var done bool
		var why string
		fyne.DoAndWait(func() {
			done = ins.busy == 0 && len(ins.processed.items) == len(srcs)
			why = fmt.Sprintf("busy %d, %d items, restoring %v, status %q, %d overlays", ins.busy, len(ins.processed.items), ins.restoring, ins.w.status.Text, len(ins.win.Canvas().Overlays().List()))
		})
		if done {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("the strips: %s", why)
		}
	}
	fyne.DoAndWait(func() {
		for k, it := range ins.processed.items {
			if it.auto == verdict.Reject {
				ins.showItem(k)
				break
			}
		}
	})
	shot("setup" + suffix)

	fyne.DoAndWait(ins.showHistory)
	waitFor("the history", func() bool { return ins.history != nil && len(ins.history.rows) > 0 })
	fyne.DoAndWait(func() { ins.history.table.Select(widget.TableCellID{Row: 0, Col: 1}) })
	time.Sleep(time.Second)
	secondaryShot(t, ins.history.win, filepath.Join(dir, "history"+suffix))
	fyne.DoAndWait(func() { ins.history.win.Close() })

	unlockShots(ins)
	fyne.DoAndWait(ins.showCalibrate)
	waitFor("calibrate", func() bool { return ins.calibrate != nil })
	held, err := filepath.Abs(filepath.Join("..", "testdata", "heldout"))
	if err != nil {
		t.Fatal(err)
	}
	fyne.DoAndWait(func() { ins.calibrate.loadFolder(held) })
	waitFor("calibration", func() bool { return ins.calibrate.report != nil && ins.calibrate.cancel == nil })
	secondaryShot(t, ins.calibrate.win, filepath.Join(dir, "calibrate"+suffix))
	fyne.DoAndWait(func() { ins.calibrate.win.Close() })

	fyne.DoAndWait(ins.enterRunMode)
	waitFor("run mode", func() bool { return ins.run.on })
	// run mode has no menu bar: the window is the screen again
	fyne.DoAndWait(func() { ins.win.Resize(fyne.NewSize(float32(w), float32(h))) })
	time.Sleep(300 * time.Millisecond)
	fyne.DoAndWait(ins.refreshRunMode)
	shot("runmode" + suffix)
}

// secondaryShot saves a secondary window's content as it is drawn.
func secondaryShot(t *testing.T, win fyne.Window, path string) {
	time.Sleep(900 * time.Millisecond)
	fyne.DoAndWait(func() {
		win.Canvas().Capture()
		win.Content().Refresh()
	})
	time.Sleep(500 * time.Millisecond)
	var img image.Image
	fyne.DoAndWait(func() {
		if img = win.Canvas().Capture(); isBlank(img) {
			img = renderSoftware(win)
		}
	})
	if err := imaging.Save(img, path); err != nil {
		t.Error(err)
	}
}
