package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"steelinspect/cli"
	"steelinspect/learn"
	"steelinspect/teach"
	"steelinspect/ui"
	"steelinspect/verdict"
)

// startWindow opens the inspection window with what the command line set up.
// Where it cannot (no display, or one that does not answer) it says so in
// one line rather than with the windowing library's panic.
func startWindow(o cli.GUIOptions) (err error) {
	if err := needDisplay(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the window could not open on display %q: %v", os.Getenv("DISPLAY"), r)
		}
	}()
	modelsDir, err := stationModelsDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "steelinspect: teaching off: %v\n", err)
	}
	return ui.Run(ui.Options{
		Model:   o.Engine,
		Station: o.Station,
		// "Back to" the bundled model hands over its source, not a path:
		// o.OpenModel takes both.
		OpenModel: func(path string) (ui.Analyzer, error) {
			e, err := o.OpenModel(path)
			if err != nil {
				return nil, err
			}
			return e, nil
		},
		Teach: func(ctx context.Context, folder, name string, progress func(teach.Progress)) (*teach.Result, error) {
			return teach.Teach(ctx, teach.Options{Good: folder, Name: name, Progress: progress, Engine: o.EngineOptions})
		},
		Learn:      learnFromTrail(o),
		Decided:    decidedInTrail(o),
		ModelsDir:  modelsDir,
		Paths:      o.Paths,
		Screenshot: o.Screenshot,
		RunMode:    o.RunMode,
	})
}

// needDisplay reports a system whose windows need a display server (X11 or
// Wayland) but where none is set.
func needDisplay() error {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android":
		return nil
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); " +
			"without one, use steelinspect scan, watch or serve")
	}
	return nil
}

// learnFromTrail learns a station model from the decisions people made in
// the station's trail; nil without a trail.
func learnFromTrail(o cli.GUIOptions) func(context.Context, string, func(teach.Progress)) (*teach.Result, []string, error) {
	store := o.Station.Trail()
	if store == nil {
		return nil
	}
	return func(ctx context.Context, name string, progress func(teach.Progress)) (*teach.Result, []string, error) {
		res, err := learn.Learn(ctx, learn.Options{Trail: learn.TrailSource{DB: store.Path()}, Name: name,
			Progress: progress, Engine: o.EngineOptions})
		if err != nil {
			return nil, nil, err
		}
		return &res.Result, res.Learned.Lines(), nil
	}
}

// decidedInTrail counts the strips people decided in the station's trail;
// nil without a trail.
func decidedInTrail(o cli.GUIOptions) func(context.Context) (map[verdict.Decision]int, error) {
	store := o.Station.Trail()
	if store == nil {
		return nil
	}
	return func(ctx context.Context) (map[verdict.Decision]int, error) { return learn.Decided(ctx, store) }
}

// stationModelsDir is the folder taught models are saved in, created when
// missing.
func stationModelsDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "steelinspect", "models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}
