// Package cli implements steelinspect's command line: the subcommands
// (scan, version, …) and the flags that start the window. It knows nothing
// of Fyne: the window is started through the GUI function main passes in, so
// the commands can be tested without a display.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/station"
)

// Version is the application version, set at link time by the Makefile.
var Version = "0.1.0"

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // something failed: a file, the model, the runtime
	ExitUsage   = 2 // the command line was wrong
)

// GUIOptions is what the command line hands to the window.
type GUIOptions struct {
	// Engine is the station's model, handed over to the window, which
	// closes it (it changes models).
	Engine *inference.Engine
	// Station is the station the command line opened, handed to the
	// window as it is (ui.Options.Station): its audit trail (nil when off
	// or unavailable), its archive, the thresholds in force and its line
	// outputs (--mqtt, --opcua, --central), which the window tells its
	// model and thresholds (SetState) and shows in its status bar.
	Station *station.Station
	// OpenModel opens a model file; "" or models.DefaultSource (what the
	// bundled model's engine gives as its source) opens the bundled model.
	OpenModel func(path string) (*inference.Engine, error)
	// EngineOptions are the command line's ONNX Runtime options, for the
	// models the window makes (teaching).
	EngineOptions inference.EngineOptions
	Paths         []string
	Screenshot    string
	// RunMode starts the window in run mode, the floor's view.
	RunMode bool
}

// Env is what a command runs against; tests substitute buffers.
type Env struct {
	Stdout, Stderr io.Writer
	// GUI starts the window; nil in builds or tests without one.
	GUI func(GUIOptions) error
}

// errUsage marks errors that are the caller's command line's fault.
var errUsage = errors.New("usage")

// Run executes the command line args (without the program name) and returns
// the process exit status.
func Run(args []string, env Env) int {
	cmd := "inspect"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if _, ok := commands[args[0]]; ok {
			cmd, args = args[0], args[1:]
		}
	}
	err := commands[cmd].run(args, env)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "steelinspect %s: %v\n", cmd, strings.TrimPrefix(err.Error(), "usage: "))
		return ExitUsage
	case errors.Is(err, errSomeFailed):
		return ExitFailure
	default:
		fmt.Fprintf(env.Stderr, "steelinspect %s: %v\n", cmd, err)
		return ExitFailure
	}
}

type command struct {
	summary string
	run     func(args []string, env Env) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"inspect":     {"open the inspection window (the default)", runInspect},
		"scan":        {"score image files or folders and print one record per image", runScan},
		"serve":       {"serve the HTTP API for line integration", runServe},
		"bench":       {"measure ms per strip for each stage, optionally against PyTorch", runBench},
		"eval":        {"measure the model on labelled strips and suggest thresholds", runEval},
		"familiarity": {"fit a model's familiarity statistics (what its training strips look like) and limit", runFamiliarity},
		"teach":       {"teach an anomaly model the good steel of one line, from defect-free strips", runTeach},
		"learn":       {"learn a station model from labelled strips of the line (masks, PASS/REJECT folders, good strips)", runLearn},
		"drift":       {"the trail's signs of drift for a shift (unfamiliar, overridden, review shares) and whether to learn again", runDrift},
		"history":     {"export the audit trail of inspections as CSV or JSONL, or verify its hash chain", runHistory},
		"report":      {"summarise the plant's inspections in the central database by station and shift", runReport},
		"users":       {"manage the station's named users: add, list, passwd, disable, enable", runUsers},
		"settings":    {"show the thresholds in force, or change them as a supervisor (recorded in the trail)", runSettings},
		"checkset":    {"register the station's check set: labelled strips every model is scored on before it goes live", runCheckSet},
		"version":     {"print the application, model and ONNX Runtime versions", runVersion},
		"watch":       {"score strips dropped into a hot folder and sort them by decision", runWatch},
		"help":        {"show this help", runHelp},
	}
}

func runHelp(_ []string, env Env) error {
	fmt.Fprint(env.Stdout, `steelinspect: steel strip inspection with a patch CNN and a traffic-light decision

usage:
  steelinspect [--model M] [--ort-lib L] [IMAGE...]   open the inspection window
  steelinspect scan [flags] PATH...                    score files or folders
  steelinspect eval --images DIR --labels train.csv   measure on labelled strips
  steelinspect serve [--addr 127.0.0.1:8080]          HTTP API for the line's control system
  steelinspect serve --db postgres://… --station S     API instances behind a load balancer, sharing one trail
  steelinspect history [--since 8h] [--decision D] [--operator O] [--format csv|jsonl|chain]
                                                       export the audit trail
  steelinspect history --central URL [--station S] [--line L]
                                                       the same across the plant's stations
  steelinspect history verify [--db F] [--chain FILE] [--head SEQ:HASH]
                                                       check the trail's hash chain: exit 0 intact, 1 altered
  steelinspect history head [--db F]                   the chain's newest entry, SEQ:HASH, to keep away from the station
  steelinspect history verify --central URL [--station S]
                                                       check each station's chain in the central database
  steelinspect history retire --central URL --before DATE --out DIR
                                                       archive and drop the central months past retention
  steelinspect learn --labelled DIR [--labelled DIR2 …] [--good DIR] [--out FILE]
                                                       learn a station model from the line's labelled strips
  steelinspect drift [--since 12h] [--db F]           signs of drift; says when learning again is suggested
  steelinspect watch DIR [--settle 1s]                 hot folder: score new strips, move to PASS/REVIEW/REJECT
  steelinspect bench [--n 60] [--compare-python]      ms per strip, stage by stage
  steelinspect familiarity --model M --fit DIR --limit-on DIR
                                                       fit what the model's training strips look like
  steelinspect teach --good DIR [--name N] [--holdout 0.2]
                                                       learn a line's good steel (anomaly model, no labels)
  steelinspect report --central URL [--since 7d] [--line L] [--format text|csv|png --out F]
                                                       the plant's counts by station and shift, rates, overrides
  steelinspect users add NAME --role admin [--password-file F]
                                                       named users: add, list, passwd, disable, enable
  steelinspect settings show [--db F]                 the thresholds in force, who set them and when
  steelinspect settings set --pass P --reject R --user NAME [--password-file F]
                                                       change them as a supervisor, recorded as the window's Unlock records
  steelinspect checkset set DIR | show                 the labelled strips every model is checked on before it goes live
  steelinspect eval --model M                          a model's figures on the station's check set
  steelinspect version                                 versions of app, model, runtime
  steelinspect help                                    this text

Run "steelinspect COMMAND --help" for a command's flags.
`)
	return nil
}

// commonFlags are accepted by every command that loads a model.
type commonFlags struct {
	model  string
	ortLib string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.model, "model", "", "model `file` (.onnx with its .manifest.json beside it, or the manifest); default: the bundled model")
	fs.StringVar(&c.ortLib, "ort-lib", "", "ONNX Runtime library `file` (default: $"+inference.LibraryEnv+", next to the binary, or third_party/onnxruntime)")
}

func (c *commonFlags) open() (*inference.Engine, error) {
	return c.openWith(inference.EngineOptions{})
}

// openWith opens the model the flags name with further engine options.
func (c *commonFlags) openWith(opts inference.EngineOptions) (*inference.Engine, error) {
	opts.LibraryPath = c.ortLib
	return models.Open(c.model, opts)
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, as users type them ("scan dir --format csv").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func runVersion(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("version", env)
	common.register(fs)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "steelinspect %s\n", Version)
	e, err := common.open()
	if err != nil {
		return err
	}
	defer e.Close()
	id := e.Manifest().Identity()
	lib, ver, _ := inference.RuntimeInfo()
	fmt.Fprintf(env.Stdout, "model %s %s (sha256 %s) from %s\nONNX Runtime %s at %s\n", id.Name, id.Version, id.ShortHash(), e.Source(), ver, lib)
	return nil
}

func runInspect(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("steelinspect", env)
	common.register(fs)
	screenshot := fs.String("screenshot", "", "save the window to this PNG `file` after the first result, then quit")
	runMode := fs.Bool("run-mode", false, "start in run mode, the floor's view (leaving it takes a supervisor's sign-in on a station with one)")
	var db dbFlag
	db.register(fs)
	noAudit := fs.Bool("no-audit", false, "do not record inspections in the audit database")
	var mq lineFlags
	mq.register(fs)
	var af archiveFlags
	af.register(fs)
	mq.registerOPCUA(fs, nil)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	spec, err := prepareStation(&common, &db, &mq, &af, *noAudit, env)
	if err != nil {
		return err
	}
	if env.GUI == nil {
		return errors.New("this build has no window; use `steelinspect scan`")
	}
	spec.trailOptional = true // the window stays usable without its trail, but says so
	st, err := openStation(context.Background(), spec)
	if err != nil {
		return err
	}
	defer st.Close()
	engineOpts := inference.EngineOptions{LibraryPath: common.ortLib}
	opener := func(path string) (*inference.Engine, error) {
		if path == models.DefaultSource {
			path = ""
		}
		return models.Open(path, engineOpts)
	}
	e := st.HandOverEngine()
	gui := GUIOptions{Engine: e, Station: st, OpenModel: opener, EngineOptions: engineOpts, Paths: paths,
		Screenshot: *screenshot, RunMode: *runMode}
	if mq.needsTrail() && st.Trail() == nil {
		return fmt.Errorf("--mqtt, --opcua and --central need the audit trail, which did not open")
	}
	// the line outputs say the window's model and thresholds, which it
	// sets as they change (Station.SetState)
	st.SetState(e.Manifest().Identity(), e.Manifest().DefaultThresholds)
	stopLine, err := startLine(st)
	if err != nil {
		return err
	}
	defer stopLine()
	return env.GUI(gui)
}
