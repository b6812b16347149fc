package main

import (
	"errors"

	"steelinspect/cli"
)

// startWindow opens the inspection window (wired once the ui package lands).
func startWindow(cli.GUIOptions) error {
	return errors.New("the inspection window is not built yet; use `steelinspect scan`")
}
