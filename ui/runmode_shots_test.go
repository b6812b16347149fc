//go:build shots

package ui

// The README's run-mode and no-steel screenshots, in the real window at
// 1280×720 with the bundled model: docs/runmode.png is run mode after a
// shift's first strips (a REJECT alarm waiting), docs/nosteel.png the setup
// view of a frame with no steel in it (flat grey with sensor noise), sent
// to review with its reason, on a station whose model is not validated on
// its line. Run under a display, from the repository root:
//
//	SHOTS_DIR=$PWD/docs xvfb-run -a -s "-screen 0 1400x900x24" go test -tags shots -run TestRunModeShots ./ui/

import (
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/models"
)

func TestRunModeShots(t *testing.T) {
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
	// flat grey at 90 with sensor noise of spread 3: no steel in it
	noise := image.NewGray(image.Rect(0, 0, 1600, 256))
	rng := rand.New(rand.NewPCG(7, 7))
	for k := range noise.Pix {
		noise.Pix[k] = uint8(90 + rng.NormFloat64()*3)
	}
	frame := writePNG(t, t.TempDir(), "cam-0417.png", noise)
	var srcs []source
	for _, name := range []string{"clean-1.jpg", "scratches.jpg", "clean-2.jpg", "pitting.jpg"} {
		p, err := filepath.Abs(filepath.Join("..", "assets", "demo", name))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, source{name: name, path: p})
	}
	ins, shot := shotsWindow(t, Options{Model: eng, Station: onTrail(store)}, dir)
	defer ins.Close()
	waitFor := func(what string, cond func() bool) { waitOnUI(t, what, 3*time.Minute, cond) }
	fyne.DoAndWait(func() {
		ins.review.setOperator("M. Keller")
		for _, o := range ins.win.Canvas().Overlays().List() {
			ins.win.Canvas().Overlays().Remove(o)
		}
	})
	fyne.DoAndWait(func() { ins.open([]source{{name: filepath.Base(frame), path: frame}}) })
	waitFor("the frame", func() bool { return ins.busy == 0 && ins.currentAnalysis() != nil })
	fyne.DoAndWait(func() { ins.strip.details.Close(0) })
	shot("nosteel.png")
	fyne.DoAndWait(func() { ins.open(srcs) })
	waitFor("the strips", func() bool { return ins.busy == 0 && len(ins.processed.items) == 5 })
	fyne.DoAndWait(func() {
		ins.showItem(4)
		ins.enterRunMode()
	})
	waitFor("run mode", func() bool { return ins.busy == 0 && ins.run.on })
	// run mode has no menu bar: the window is the screen's 1280×720 again
	fyne.DoAndWait(func() { ins.win.Resize(fyne.NewSize(1280, 720)) })
	time.Sleep(300 * time.Millisecond)
	fyne.DoAndWait(ins.refreshRunMode)
	shot("runmode.png")
}
