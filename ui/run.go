package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"steelinspect/assets"
	"steelinspect/audit"
	"steelinspect/inference"
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
	// "Open model…" action.
	OpenModel func(path string) (Analyzer, error)
	// Paths are images to load on start.
	Paths []string
	// Audit, when set, is the station's audit trail: every strip inspected
	// in the window is recorded in it before it is shown as done, the
	// operator on shift reviews strips, the history view lists it, and
	// thresholds and model sit behind the supervisor PIN, each change
	// recorded. Nil keeps no trail and leaves the settings unlocked. The
	// caller keeps ownership and closes it after Run returns.
	Audit *audit.Store
	// Screenshot, when not empty, makes the window save its canvas to this
	// PNG file once the first result is displayed, and then quit.
	Screenshot string
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
	ins := NewInspector(a, opts)
	ins.Window().ShowAndRun()
	return ins.Close()
}
