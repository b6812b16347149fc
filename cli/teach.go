package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"steelinspect/inference"
	"steelinspect/teach"
)

// runTeach teaches an anomaly model on a folder of defect-free strips and
// saves it (package teach).
func runTeach(args []string, env Env) error {
	fs := newFlagSet("teach", env)
	good := fs.String("good", "", "`folder` of defect-free strips from one line (searched recursively; at least 30)")
	name := fs.String("name", "", "model `name` (default good-steel-<folder>)")
	out := fs.String("out", "", "manifest `file` to write (default NAME.manifest.json in the current folder); NAME.onnx and NAME.bank go beside it")
	holdOut := fs.Float64("holdout", teach.DefaultHoldOut, "`share` of the strips kept aside to measure the model on and fit its scores")
	bankRows := fs.Int("bank", teach.DefaultBankRows, fmt.Sprintf("memory bank `rows` (at most %d): more is finer and slower", inference.MaxBankRows))
	force := fs.Bool("force", false, "overwrite a model of the same name")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime shared `library`")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	opts := teach.Options{Good: *good, Name: *name, HoldOut: *holdOut, BankRows: *bankRows,
		Engine: inference.EngineOptions{LibraryPath: *ortLib}}
	if err := teach.CheckOptions(opts); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *bankRows < 1 || *bankRows > inference.MaxBankRows {
		return fmt.Errorf("%w: --bank must be 1..%d", errUsage, inference.MaxBankRows)
	}
	if opts.Name == "" {
		opts.Name = teach.DefaultName(*good)
	}
	target, err := modelTarget(*out, *name, &opts.Name, *force)
	if err != nil {
		return err
	}
	if !*quiet {
		opts.Progress = progressPrinterFor("teach", env.Stderr)
	}
	res, path, err := makeAndSave("teaching", func(ctx context.Context) (*teach.Result, error) { return teach.Teach(ctx, opts) }, target, *force)
	if err != nil {
		return err
	}
	printTeachReport(env.Stdout, res, path)
	return nil
}

// modelTarget is the manifest a made model is saved as: out, or
// NAME.manifest.json in the current folder. out names the model when
// --name (flagName) does not. An existing file is refused unless force.
func modelTarget(out, flagName string, name *string, force bool) (string, error) {
	target := out
	if target == "" {
		target = teach.ManifestPath(".", *name)
	} else if base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(target), inference.ManifestSuffix), ".onnx"); flagName == "" {
		*name = base
	}
	if _, err := os.Stat(target); err == nil && !force {
		return "", fmt.Errorf("%s already exists: choose another --name or --out, or overwrite it with --force", target)
	}
	return target, nil
}

// makeAndSave runs build (teaching or learning, named by what) until it
// ends or Ctrl-C stops it, then saves the model at target. An interrupted
// run writes nothing.
func makeAndSave(what string, build func(context.Context) (*teach.Result, error), target string, force bool) (*teach.Result, string, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := build(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("%s interrupted: nothing was written", what)
		}
		return nil, "", err
	}
	path, err := res.Save(target, force)
	return res, path, err
}

// progressPrinterFor prints a command's (teach's, learn's) progress: one
// line per stage change and every few seconds.
func progressPrinterFor(command string, w io.Writer) func(teach.Progress) {
	var stage string
	var last time.Time
	return func(p teach.Progress) {
		if p.Stage == stage && time.Since(last) < 3*time.Second && p.Done < p.Total {
			return
		}
		stage, last = p.Stage, time.Now()
		left := "estimating time left"
		if p.Left > 0 {
			left = fmt.Sprintf("about %s left", p.Left.Round(time.Second))
		}
		fmt.Fprintf(w, "steelinspect %s: %s %d/%d, %s elapsed, %s\n", command, p.Stage, p.Done, p.Total, p.Elapsed.Round(time.Second), left)
	}
}

// printTeachReport prints what teaching did and measured.
func printTeachReport(w io.Writer, res *teach.Result, path string) {
	r := res.Report
	m := res.Manifest
	fmt.Fprintf(w, "taught %s on %d good %d×%d strips from %s in %s\n", m.Name, r.Taught, r.Width, r.Height, r.Folder, r.Duration.Round(100*time.Millisecond))
	for _, s := range r.Unreadable {
		fmt.Fprintf(w, "  skipped (unreadable) %s: %s\n", s.Path, s.Reason)
	}
	for _, s := range r.Flagged {
		fmt.Fprintf(w, "  left out (flagged) %s: %s\n", s.Path, s.Reason)
	}
	fmt.Fprintf(w, "memory bank: %d features of %d values from %d cells, %s in memory\n",
		r.BankRows, m.Anomaly.Bank.Dim, r.PoolCells, fmt.Sprintf("%.1f MiB", float64(r.BankBytes)/(1<<20)))
	fmt.Fprintf(w, "held-out good strips: %d (not taught on; they fix the score scale); at the default thresholds (pass %.2f, reject %.2f): %.0f%% auto-pass, %.0f%% review, %.0f%% reject\n",
		len(r.HeldOut), m.DefaultThresholds.Pass, m.DefaultThresholds.Reject, 100*r.PassShare, 100*r.ReviewShare, 100*r.RejectShare)
	fmt.Fprintf(w, "new good strips expected to auto-pass: %.0f%% (each held-out strip judged by a scale fitted on the others)\n", 100*r.NewGoodPassShare)
	fmt.Fprintf(w, "held-out strip probability: min %.3f, median %.3f, max %.3f; patch distance median %.3f, 99th percentile %.3f, max %.3f\n",
		r.ProbabilityMin, r.ProbabilityMedian, r.ProbabilityMax, r.DistanceMedian, r.DistanceP99, r.DistanceMax)
	fmt.Fprintf(w, "saved %s (with %s and %s)\n", path, m.File, m.Anomaly.Bank.File)
}
