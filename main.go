// Command steelinspect scores steel strip images patch by patch with a CNN
// and decides PASS, REVIEW or REJECT: in a desktop window for inspectors,
// or headless with `steelinspect scan`.
package main

import (
	"os"

	// first of all packages: a locale Fyne can parse (see its doc)
	_ "earlylocale.steelinspect.invalid"

	"steelinspect/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, GUI: startWindow}))
}
