package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/learn"
	"steelinspect/teach"
)

// runLearn makes a station model from labelled strips of the line
// (package learn) and saves it as teach saves a taught model.
func runLearn(args []string, env Env) error {
	fs := newFlagSet("learn", env)
	var labelled multiFlag
	fs.Var(&labelled, "labelled", "`folder` of labelled strips (repeatable): train_images/ with train.csv (Severstal layout; an image without rows is defect-free), train_images_nomask/ with labels_image_level.csv, or PASS/ and REJECT/ sorted by decision")
	fromTrail := fs.Bool("from-trail", false, "also learn from every strip a person decided in the audit trail (P or R on a REVIEW, an override), its pixels from the image archive")
	db := fs.String("db", "", "with --from-trail: the audit database `file` (default: the station's)")
	since := fs.Duration("since", 0, "with --from-trail: only decisions of the last `duration` (e.g. 2160h for 90 days; 0: all)")
	good := fs.String("good", "", "`folder` of defect-free strips of the line, added as defect-free")
	name := fs.String("name", "", "model `name` (default station-<first labelled folder>)")
	out := fs.String("out", "", "manifest `file` to write (default NAME.manifest.json in the current folder); NAME.onnx and its other files go beside it")
	features := fs.String("features", learn.FeaturesWindows, "what the head reads: windows (the bundled model's 1,280 window features; the model scores as fast as the bundled one) or cells (the ImageNet backbone's 16-px cells and their distance to good steel, as teach uses it)")
	head := fs.String("head", learn.HeadLinear, "the head: linear (logistic) or mlp (one hidden layer of 16 units; --features cells only; slower to learn)")
	folds := fs.Int("folds", learn.DefaultFolds, "out-of-fold `splits` the figures and thresholds are measured on")
	missed := fs.Float64("max-missed", 0, "`share` of defective strips the thresholds may auto-pass, out of fold (0: none; at most 0.1)")
	falseRejects := fs.Float64("max-false-rejects", 0, "`share` of defect-free strips the thresholds may auto-reject, out of fold (0: none; at most 0.1)")
	cache := fs.String("cache", "", "`folder` keeping each strip's features by sha256, so learning again takes seconds (default "+learn.DefaultCacheDir()+"; - for none)")
	force := fs.Bool("force", false, "overwrite a model of the same name")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime shared `library`")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	opts := learn.Options{Labelled: labelled, Good: *good, Name: *name, Folds: *folds, CacheDir: *cache,
		MissedShare: *missed, FalseRejectShare: *falseRejects, Head: *head, Features: *features,
		Engine: inference.EngineOptions{LibraryPath: *ortLib}}
	trail, err := trailSource(*fromTrail, *db, *since)
	if err != nil {
		return err
	}
	opts.Trail = trail
	if err := learn.CheckOptions(opts); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if opts.Name == "" {
		opts.Name = learn.NameFor(opts)
	}
	target, err := modelTarget(*out, *name, &opts.Name, *force)
	if err != nil {
		return err
	}
	if !*quiet {
		opts.Progress = progressPrinterFor("learn", env.Stderr)
	}
	var res *learn.Result
	_, path, err := makeAndSave("learning", func(ctx context.Context) (*teach.Result, error) {
		var err error
		if res, err = learn.Learn(ctx, opts); err != nil {
			return nil, err
		}
		return &res.Result, nil
	}, target, *force)
	if err != nil {
		return err
	}
	printLearnReport(env.Stdout, res, path)
	return nil
}

// trailSource is the trail learn --from-trail reads: --db, or the
// station's own.
func trailSource(fromTrail bool, db string, since time.Duration) (learn.TrailSource, error) {
	if !fromTrail {
		if db != "" || since != 0 {
			return learn.TrailSource{}, fmt.Errorf("%w: --db and --since go with --from-trail", errUsage)
		}
		return learn.TrailSource{}, nil
	}
	if db == "" {
		p, err := audit.DefaultPath()
		if err != nil {
			return learn.TrailSource{}, err
		}
		db = p
	}
	return learn.TrailSource{DB: db, Since: since}, nil
}

// printLearnReport prints what learning used and measured.
func printLearnReport(w io.Writer, res *learn.Result, path string) {
	r := res.Learned
	m := res.Manifest
	fmt.Fprintf(w, "learned %s on %d labelled %d×%d strips (%d defective, %d with masks; %d defect-free) in %s; %d features read from the cache\n",
		m.Name, r.Used, r.Width, r.Height, r.Defective, r.Masked, r.Clean, r.Duration.Round(100*time.Millisecond), r.Cached)
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  left out %s: %s\n", s.Path, s.Reason)
	}
	fmt.Fprintf(w, "head: %s; %d %s (%d defective)", learn.HeadLine(m), r.TrainCells, r.Unit(), r.DefectCells)
	if len(r.Classes) > 0 {
		fmt.Fprintf(w, "; classes %s", strings.Join(r.Classes, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "out of fold (%d folds; each strip judged by a head and thresholds that never saw it), at the default thresholds (pass %.2f, reject %.2f):\n",
		r.Folds, m.DefaultThresholds.Pass, m.DefaultThresholds.Reject)
	fmt.Fprintf(w, "  defective auto-passed %d of %d, defect-free auto-rejected %d of %d, review %d (%.0f%%)\n",
		r.Missed, r.Defective, r.FalseRejects, r.Clean, r.Reviews, 100*r.ReviewShare)
	patch := fmt.Sprintf("%.3f", r.PatchAUC)
	if r.PatchAUCWhy != "" {
		patch = "not measured (" + r.PatchAUCWhy + ")"
	}
	fmt.Fprintf(w, "  strip ROC AUC %.3f, patch ROC AUC %s\n", r.StripAUC, patch)
	printWrongOutOfFold(w, r.Strips)
	if r.TooFew != "" {
		fmt.Fprintf(w, "WARNING: %s\n", r.TooFew)
	}
	if r.Capped != "" {
		fmt.Fprintln(w, r.Capped)
	}
	beside := m.File
	switch {
	case m.Anomaly != nil:
		beside += " and " + m.Anomaly.Bank.File
	case m.Familiarity != nil:
		beside += " and " + m.Familiarity.File
		fmt.Fprintf(w, "familiarity: a strip unlike the line's strips goes to review (limit %.2f, placed on strips held out of the fit)\n", m.Familiarity.Limit)
	}
	fmt.Fprintf(w, "saved %s (with %s)\n", path, beside)
}

// maxWrongListed bounds the wrong out-of-fold decisions the report names.
const maxWrongListed = 10

// printWrongOutOfFold names the strips the model would have decided wrongly
// out of fold, so that their labels can be checked: a mislabelled strip
// costs every other strip review.
func printWrongOutOfFold(w io.Writer, strips []learn.StripScore) {
	var wrong []learn.StripScore
	for _, s := range strips {
		if s.Wrong() {
			wrong = append(wrong, s)
		}
	}
	for i, s := range wrong {
		if i == maxWrongListed {
			fmt.Fprintf(w, "  … and %d more\n", len(wrong)-maxWrongListed)
			break
		}
		what := "defective, auto-passed"
		if !s.Defective {
			what = "defect-free, auto-rejected"
		}
		fmt.Fprintf(w, "  out of fold %s: %s (score %.2f)\n", what, s.Path, s.Score)
	}
}
