package main

import (
	"os"

	"steelinspect/cli"
	"steelinspect/ui"
)

// startWindow opens the inspection window with what the command line set up.
func startWindow(o cli.GUIOptions) error {
	// Fyne logs an alarming "Error parsing user locale C" on stations left
	// in the POSIX locale; our texts are English, so say so.
	if os.Getenv("LC_ALL") == "" && (os.Getenv("LANG") == "" || os.Getenv("LANG") == "C" || os.Getenv("LANG") == "POSIX") {
		os.Setenv("LANG", "en_US.UTF-8")
	}
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
