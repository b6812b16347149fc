package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/go-gl/glfw/v3.3/glfw"

	"steelinspect/assets"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/teach"
	"steelinspect/verdict"
)

// AppID is the application's unique ID, also used for its preferences.
const AppID = "com.steelinspector.app"

// AppName is the window title and the name shown to users.
const AppName = "Steel Inspector"

// Analyzer scores images with one model. *inference.Engine satisfies it.
type Analyzer interface {
	AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error)
	AnalyzeBytes(ctx context.Context, name string, data []byte) (inference.Analysis, error)
	Manifest() *inference.Manifest
	Source() string
	Close() error
}

// Options configure the window.
type Options struct {
	// Model is the analyzer to start with. The window owns it from then on
	// and closes it when it is replaced or the window closes.
	Model Analyzer
	// OpenModel opens another model file (.onnx or .manifest.json). It
	// returns a one-line reason when it refuses the file. Nil hides the
	// "Open model…" action. "Back to <previous model>" hands it the path
	// the previous model was opened from, or, for the model the window
	// started with, that model's Source() (for the bundled model,
	// models.DefaultSource): it must open that model again.
	OpenModel func(path string) (Analyzer, error)
	// Teach teaches an anomaly model on a folder of defect-free strips
	// (package teach): it names the model name, reports how it goes
	// through progress, stops when ctx is cancelled and writes nothing.
	// The window saves the result into ModelsDir and switches to it with
	// OpenModel. Nil, or an empty ModelsDir or a nil OpenModel, hides the
	// "Teach good steel…" action.
	Teach func(ctx context.Context, folder, name string, progress func(teach.Progress)) (*teach.Result, error)
	// Learn learns a station model from the strips people decided in the
	// audit trail (package learn), named name, with progress, stopped by
	// ctx; it returns the model and its report, one plain line each.
	// Decided counts those strips by final decision (PASS, REJECT). Nil,
	// or an empty ModelsDir or a nil OpenModel, hides "Learn from
	// decisions…".
	Learn   func(ctx context.Context, name string, progress func(teach.Progress)) (*teach.Result, []string, error)
	Decided func(ctx context.Context) (map[verdict.Decision]int, error)
	// ModelsDir is the station's folder of models: taught models are
	// saved there (it is created when missing).
	ModelsDir string
	// Paths are images to load on start.
	Paths []string
	// Station is the station the window runs, opened by the caller, who
	// keeps ownership and closes it after Run returns. Its audit trail
	// (Station.Trail), when there is one, records every strip inspected
	// in the window before it is shown as done; the operator on shift
	// reviews strips, the history view lists it, and thresholds and model
	// sit behind the supervisor PIN, each change recorded. Nil, or a
	// station without a trail, keeps none and leaves the settings
	// unlocked. Every strip is concluded through it (the window's pair
	// fixed on it: Station.Fix), with its archive when it has one; the
	// Watch folder runs on it; it hears the model and thresholds in force
	// (Station.SetState, which its line outputs say); the status bar
	// shows its line outputs' state (Station.LinkStatus); and the
	// window's own line connection, for a station started without
	// --mqtt or --central, runs as its outputs (Station.SetLinks).
	Station *station.Station
	// Screenshot, when not empty, makes the window save its canvas to this
	// PNG file once the first result is displayed, and then quit.
	Screenshot string
	// RunMode starts the window in run mode (runmode.go), the floor's view.
	RunMode bool
}

// Run opens the Steel Inspector window and blocks until it is closed.
// It returns an error when the options are unusable or the screenshot
// asked for could not be written.
func Run(opts Options) error {
	if opts.Model == nil {
		return errors.New("ui: no model to run")
	}
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
	a.Settings().SetTheme(newStationTheme())
	ins := NewInspector(a, opts)
	go fitToScreen(ins.Window())
	ins.Window().ShowAndRun()
	return ins.Close()
}

// fitToScreen sizes the window to the screen it opened on, less room for
// a task bar: a station runs one application. On a 1280×720 screen the
// starting size (1360×860) left the status bar and the right-hand panel
// off screen; on 1920×1080 it left half the screen unused. The window's
// content needs about 1170×560.
// Fyne has no screen-size API; GLFW (its desktop driver) is asked on the
// driver's own thread once the window is up.
func fitToScreen(w fyne.Window) {
	time.Sleep(200 * time.Millisecond)
	fyne.Do(func() {
		mon := glfw.GetPrimaryMonitor()
		if mon == nil {
			return
		}
		mode := mon.GetVideoMode()
		scale := w.Canvas().Scale()
		if mode == nil || scale <= 0 {
			return
		}
		// leave room for a task bar and the window's title bar
		avail := fyne.NewSize(float32(mode.Width)/scale-16, float32(mode.Height)/scale-64)
		w.Resize(avail)
		w.CenterOnScreen()
	})
}
