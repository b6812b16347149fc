package main

import (
	"steelinspect/cli"
	"steelinspect/ui"
)

// startWindow opens the inspection window with what the command line set up.
func startWindow(o cli.GUIOptions) error {
	return ui.Run(ui.Options{
		Model: o.Engine,
		Audit: o.Audit,
		OpenModel: func(path string) (ui.Analyzer, error) {
			e, err := o.OpenModel(path)
			if err != nil {
				return nil, err
			}
			return e, nil
		},
		Paths:      o.Paths,
		Screenshot: o.Screenshot,
	})
}
