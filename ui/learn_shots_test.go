//go:build shots

package ui

// The README's learn screenshots: a station whose trail holds 30 strips an
// operator passed and 30 rejected (testdata/heldout, archived in place);
// docs/learn-ask.png is "Learn from decisions…" with the trail's counts,
// docs/learn.png the report over the window. Run under a display, from the
// repository root:
//
//	SHOTS_DIR=$PWD/docs xvfb-run -a -s "-screen 0 1400x900x24" go test -tags shots -run TestLearnShots ./ui/

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
)

func TestLearnShots(t *testing.T) {
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" || shotsApp == nil {
		t.Skip("SHOTS_DIR not set")
	}
	store, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recordDecided(t, store, false, 30)
	recordDecided(t, store, true, 30)
	eng, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// a demo strip: the held-out ones are in the trail, decided, and
	// opening one again would ask first
	strip, err := filepath.Abs("../assets/demo/scratches.jpg")
	if err != nil {
		t.Fatal(err)
	}
	run, decided := learnOptions(store)
	opts := Options{Model: eng, Station: onTrail(store), ModelsDir: filepath.Join(t.TempDir(), "models"), Learn: run, Decided: decided,
		OpenModel: func(path string) (Analyzer, error) {
			if path == models.DefaultSource {
				return models.OpenDefault(inference.EngineOptions{})
			}
			return inference.OpenModel(path, inference.EngineOptions{})
		}}
	ins, shot := shotsWindow(t, opts, dir)
	defer ins.Close()
	waitFor := func(what string, cond func() bool) { waitOnUI(t, what, 3*time.Minute, cond) }
	fyne.DoAndWait(func() {
		ins.review.setOperator("M. Keller")
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
		unlockShots(ins)
	})
	waitFor("the unlock", func() bool { return !ins.isLocked() })
	fyne.DoAndWait(func() { ins.open([]source{{name: filepath.Base(strip), path: strip}}) })
	waitFor("the strip", func() bool { return ins.busy == 0 && ins.currentAnalysis() != nil })
	fyne.DoAndWait(func() { ins.strip.details.Close(0) })
	fyne.DoAndWait(ins.showLearn)
	waitFor("the counts", func() bool { return ins.teach != nil && ins.teach.ask != nil })
	fyne.DoAndWait(func() { ins.teach.nameIn.SetText("line-3") })
	shot("learn-ask.png")
	fyne.DoAndWait(func() { test.Tap(ins.teach.startBtn) })
	waitFor("the report", func() bool { return ins.teach != nil && ins.teach.report != nil })
	shot("learn.png")
}
