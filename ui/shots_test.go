//go:build shots

package ui

// Screenshots of the station workflow in the real (GL) window, for looking
// at it as a user would. Run under a display:
//
//	SHOTS_DIR=/tmp/ui-shots4 xvfb-run -a -s "-screen 0 1400x900x24" go test -tags shots -run TestShots ./ui/
//
// With SHOTS_BUNDLED=1 the window runs the bundled model on the held-out
// strips (testdata/heldout) instead of the tiny test model on generated ones:
// that is how the README's station screenshots are made.

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/storage"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/verdict"
)

var shotsApp fyne.App

func TestMain(m *testing.M) {
	if os.Getenv("SHOTS_DIR") == "" {
		os.Exit(m.Run())
	}
	// GL wants the main thread: the app runs here, the tests beside it.
	shotsApp = app.NewWithID("com.steelinspector.shots")
	code := 0
	go func() {
		code = m.Run()
		shotsApp.Quit()
	}()
	shotsApp.Run()
	os.Exit(code)
}

// steelStrip is a textured grey strip with a bright defect of the given
// strength at x (0: none). Its texture is correlated across pixels, as
// steel's is (white noise alone is no steel: it goes to review).
func steelStrip(r *rand.Rand, defect uint8, x int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	above := make([]float64, 1600)
	for y := range 256 {
		streak := r.IntN(9)
		var along float64
		for xx := range 1600 {
			along = 0.8*along + r.NormFloat64()
			above[xx] = 0.6*above[xx] + 0.4*along
			v := 58 + streak + int(4*above[xx]) + r.IntN(4)
			if defect > 0 && xx >= x && xx < x+300 && y > 40 && y < 220 {
				v = int(defect) - r.IntN(10)
			}
			img.Pix[y*img.Stride+xx] = uint8(min(255, v))
		}
	}
	return img
}

// slowAnalyzer paces the tiny model like a real one, so the batch
// progress can be seen.
type slowAnalyzer struct{ Analyzer }

func (s *slowAnalyzer) AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error) {
	time.Sleep(40 * time.Millisecond)
	return s.Analyzer.AnalyzeFile(ctx, path)
}

func TestShots(t *testing.T) {
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" || shotsApp == nil {
		t.Skip("SHOTS_DIR not set")
	}
	r := rand.New(rand.NewPCG(4, 2))
	strips := t.TempDir()
	bundled := os.Getenv("SHOTS_BUNDLED") == "1"
	if bundled {
		strips = filepath.Join("..", "testdata", "heldout", "train_images")
	}
	for k := range 160 {
		if bundled {
			break
		}
		var d uint8
		switch k % 7 {
		case 2:
			d = 200 // REVIEW-ish
		case 4:
			d = 255 // REJECT
		case 6:
			d = 185
		}
		writePNG(t, strips, fmt.Sprintf("coil-7731-strip-%03d.png", k), steelStrip(r, d, 200+r.IntN(1100)))
	}
	store, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var model Analyzer
	if bundled {
		eng, err := models.OpenDefault(inference.EngineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		model = eng
	} else {
		eng, err := inference.OpenModel(tinyModel, inference.EngineOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		model = &slowAnalyzer{Analyzer: eng}
	}
	p := shotsApp.Preferences()
	p.RemoveValue(prefPass)
	p.RemoveValue(prefReject)
	var ins *Inspector
	fyne.DoAndWait(func() {
		ins = newInspector(shotsApp, Options{Model: model, Station: onTrail(store)}, fyne.Do)
		ins.win.Resize(fyne.NewSize(1400, 880))
		ins.win.Show()
	})
	defer ins.Close()
	shot := func(w fyne.Window, name string) {
		time.Sleep(900 * time.Millisecond)
		fyne.DoAndWait(func() {
			w.Canvas().Capture()
			w.Content().Refresh()
		})
		time.Sleep(500 * time.Millisecond)
		fyne.DoAndWait(func() {
			if err := saveCapture(w, filepath.Join(dir, name)); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor := func(what string, cond func() bool) { waitOnUI(t, what, 60*time.Second, cond) }

	shot(ins.win, "01-operator-dialog.png")
	fyne.DoAndWait(func() {
		ins.review.setOperator("M. Keller")
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
		ins.openURIs([]fyne.URI{storage.NewFileURI(strips)})
	})
	waitFor("the batch to start", func() bool { return ins.batch.done >= 12 })
	shot(ins.win, "02-batch-progress.png")
	waitFor("the batch to end", func() bool { return ins.busy == 0 })
	fyne.DoAndWait(func() {
		ins.processed.filter.SetSelected(filterReview)
		ins.review.next()
	})
	shot(ins.win, "03-review-queue.png")
	var reviewed int
	fyne.DoAndWait(func() {
		reviewed = ins.current
		ins.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyP})
	})
	waitFor("the review", func() bool { return ins.processed.items[reviewed].review != nil })
	fyne.DoAndWait(func() {
		ins.processed.filter.SetSelected(filterAll)
		ins.showItem(reviewed)
	})
	shot(ins.win, "04-reviewed-card.png")
	fyne.DoAndWait(func() {
		for k, it := range ins.processed.items {
			if it.auto == verdict.Reject {
				ins.showItem(k)
				break
			}
		}
	})
	time.Sleep(300 * time.Millisecond)
	fyne.DoAndWait(func() { ins.review.askOverride(true) })
	shot(ins.win, "05-override-dialog.png")
	fyne.DoAndWait(func() {
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
		ins.review.override("paint mark from the marking station, not a crack")
		unlockShots(ins)
	})
	waitFor("the unlock", func() bool { return !ins.isLocked() })
	fyne.DoAndWait(func() { ins.settings.rejectSlider.SetValue(0.70) })
	shot(ins.win, "06-unlocked-override.png")
	fyne.DoAndWait(func() { ins.settings.Lock(); ins.askUnlock(nil) })
	shot(ins.win, "07-unlock-dialog.png")
	fyne.DoAndWait(func() {
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
		ins.showHistory()
	})
	waitFor("the history", func() bool { return ins.history != nil && len(ins.history.rows) > 0 })
	shot(ins.history.win, "08-history.png")
	fyne.DoAndWait(func() {
		ins.history.decision.SetSelected("PASS")
		ins.history.operator.SetText("M. Keller")
		ins.history.reload()
	})
	shot(ins.history.win, "09-history-filtered.png")
	fyne.DoAndWait(func() { ins.history.win.Close() })
}

// waitOnUI polls cond on the UI goroutine until it holds, failing the
// test after limit.
func waitOnUI(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		ok := false
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return
		}
		if time.Since(start) > limit {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// unlockShots unlocks a screenshot window as a supervisor it makes in the
// window's trail (on the UI goroutine).
func unlockShots(ins *Inspector) {
	ctx := context.Background()
	if ok, _ := ins.store.HasRole(ctx, audit.RoleSupervisor); !ok {
		ins.store.AddUser(ctx, "screenshots", supervisorName, audit.RoleSupervisor, supervisorPassword)
	}
	ins.checkUser(supervisorName, supervisorPassword, ins.showError, nil)
}
