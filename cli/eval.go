package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Cyclomatic complexity above 15, kept: a command read top to bottom: flags, their checks, the run, each output format; each branch is one refusal or option.
//
//gocyclo:ignore
func runEval(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("eval", env)
	common.register(fs)
	images := fs.String("images", "", "`folder` of strip images (Severstal train_images)")
	labelsPath := fs.String("labels", "", "Severstal `train.csv` (ImageId,ClassId,EncodedPixels or ImageId_ClassId,EncodedPixels)")
	var thf thresholdFlags
	thf.register(fs)
	maxMissed := fs.Int("max-missed", 0, "defective strips the suggested thresholds may auto-pass")
	format := fs.String("format", "text", "output `format`: text or json")
	plots := fs.String("plots", "", "also save histogram.png, roc.png and sweep.png in this `folder`")
	compare := fs.String("compare", "", "reference `model` (e.g. the fp32 per-patch one): also list the strips whose decision and the patches whose zone it changes")
	var db dbFlag
	db.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: steelinspect eval [--model M] --images DIR --labels train.csv | steelinspect eval [--model M] [--db F]  (the station's check set)")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	case (*images == "") != (*labelsPath == ""):
		return fmt.Errorf("%w: give --images DIR and --labels train.csv together, or neither for the station's check set", errUsage)
	case *format != "text" && *format != "json":
		return fmt.Errorf("%w: --format %q is not text or json", errUsage, *format)
	case *maxMissed < 0:
		return fmt.Errorf("%w: --max-missed must be 0 or more", errUsage)
	}
	if err := thf.checkGiven(); err != nil {
		return err
	}
	labels, err := evalLabels(images, *labelsPath, &db)
	if err != nil {
		return err
	}
	e, th, err := openEngine(&common, &thf)
	if err != nil {
		return err
	}
	defer e.Close()
	report, err := evaluate.Run(context.Background(), e, *images, labels, th, *maxMissed)
	if err != nil {
		return err
	}
	var cmp *evaluate.Comparison
	if *compare != "" {
		if cmp, err = compareWith(*compare, &common, report, labels, *images, th, *maxMissed); err != nil {
			return err
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		out := any(report)
		if cmp != nil {
			out = struct {
				*evaluate.Report
				Comparison *evaluate.Comparison `json:"comparison"`
			}{report, cmp}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		writeEvalText(env.Stdout, report)
		if cmp != nil {
			writeComparisonText(env.Stdout, cmp)
		}
	}
	if *plots != "" {
		if err := os.MkdirAll(*plots, 0o755); err != nil {
			return err
		}
		files, err := evaluate.WritePlots(report, *plots)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "steelinspect eval: wrote %s\n", strings.Join(files, ", "))
	}
	for _, p := range report.Problems {
		fmt.Fprintf(env.Stderr, "steelinspect eval: %s\n", p)
	}
	if len(report.Problems) > 0 {
		return errSomeFailed
	}
	return nil
}

// compareWith scores the same strips with a reference model at the same
// thresholds and sets report beside it.
func compareWith(refPath string, common *commonFlags, report *evaluate.Report, labels *evaluate.Labels, images string,
	th verdict.Thresholds, maxMissed int) (*evaluate.Comparison, error) {
	ref, err := inference.OpenModel(refPath, inference.EngineOptions{LibraryPath: common.ortLib})
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	defer ref.Close()
	refReport, err := evaluate.Run(context.Background(), ref, images, labels, th, maxMissed)
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	return evaluate.Compare(refReport, report)
}

func writeComparisonText(w io.Writer, c *evaluate.Comparison) {
	fmt.Fprintf(w, "\nagainst reference %s %s (%s): %d strips, %d patches\n", c.Reference.Name, c.Reference.Version,
		c.Reference.ShortHash(), c.Strips, c.Patches)
	fmt.Fprintf(w, "  probability difference: mean %.4f, max %.4f\n", c.MeanAbsDiff, c.MaxAbsDifference)
	fmt.Fprintf(w, "  strip decisions changed: %d\n", len(c.DecisionChanges))
	for _, d := range c.DecisionChanges {
		fmt.Fprintf(w, "    %s (%s): %s -> %s\n", d.ImageID, map[bool]string{true: "defective", false: "defect-free"}[d.Defective], d.Reference, d.Decision)
	}
	fmt.Fprintf(w, "  patch zones changed: %d\n", len(c.ZoneChanges))
	for _, z := range c.ZoneChanges {
		fmt.Fprintf(w, "    %s patch %d (%s): %.3f %s -> %.3f %s\n", z.ImageID, z.Patch,
			map[bool]string{true: "defective", false: "clean"}[z.Defective], z.RefProb, z.RefZone, z.Prob, z.Zone)
	}
}

// evalLabels reads the labels eval measures against: --labels, or without
// it the station's registered check set, whose strips folder it puts in
// images.
func evalLabels(images *string, labelsPath string, db *dbFlag) (*evaluate.Labels, error) {
	if labelsPath == "" {
		store, err := db.open()
		if err != nil {
			return nil, err
		}
		defer store.Close()
		cs, err := station.RegisteredCheckSet(context.Background(), store)
		if err != nil {
			return nil, err
		}
		if cs == nil {
			return nil, fmt.Errorf("%w: no check set is registered in %s: give --images DIR and --labels train.csv, or register one with steelinspect checkset set DIR", errUsage, store.Path())
		}
		*images = cs.ImagesDir()
		return cs.Labels()
	}
	f, err := os.Open(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	labels, err := evaluate.ParseLabels(f, evaluate.StripWidth, evaluate.StripHeight)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", labelsPath, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return labels, nil
}

// thresholdFlags are --pass and --reject, which default to the model's
// own thresholds.
type thresholdFlags struct{ pass, reject float64 }

func (f *thresholdFlags) register(fs *flag.FlagSet) {
	f.pass, f.reject = -1, -1
	fs.Var((*thresholdValue)(&f.pass), "pass", "auto-pass `threshold`: PASS when the highest patch probability is below it (default: the model's, 0.40)")
	fs.Var((*thresholdValue)(&f.reject), "reject", "auto-reject `threshold`: REJECT when the highest patch probability is above it (default: the model's, 0.65)")
}

// given says whether --pass or --reject was given.
func (f *thresholdFlags) given() bool { return f.pass >= 0 || f.reject >= 0 }

// over is base with the given flags applied.
func (f *thresholdFlags) over(base verdict.Thresholds) verdict.Thresholds {
	if f.pass >= 0 {
		base.Pass = f.pass
	}
	if f.reject >= 0 {
		base.Reject = f.reject
	}
	return base
}

// thresholdValue is a threshold flag read by verdict.ParseThreshold (-1:
// not given).
type thresholdValue float64

func (v *thresholdValue) String() string {
	if v == nil || *v < 0 {
		return ""
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

func (v *thresholdValue) Set(s string) error {
	t, err := verdict.ParseThreshold(s)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("%q ", s)))
	}
	*v = thresholdValue(t)
	return nil
}

// checkGiven validates the pair when both were given, before any model is
// loaded, so a usage error costs nothing.
func (f *thresholdFlags) checkGiven() error {
	if f.pass >= 0 && f.reject >= 0 {
		if err := (verdict.Thresholds{Pass: f.pass, Reject: f.reject}).Validate(); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return nil
}

// openEngine opens the model the flags name and resolves the thresholds
// against its defaults; on a threshold error the engine is closed again.
func openEngine(common *commonFlags, thf *thresholdFlags) (*inference.Engine, verdict.Thresholds, error) {
	e, err := common.open()
	if err != nil {
		return nil, verdict.Thresholds{}, err
	}
	th, err := thf.resolve(e.Manifest())
	if err != nil {
		e.Close()
		return nil, th, err
	}
	return e, th, nil
}

// resolve overrides the model's default thresholds with those given and
// validates the result.
func (f *thresholdFlags) resolve(m *inference.Manifest) (verdict.Thresholds, error) {
	th := f.over(m.DefaultThresholds)
	if err := th.Validate(); err != nil {
		return th, fmt.Errorf("%w: %v", errUsage, err)
	}
	return th, nil
}

func writeEvalText(w io.Writer, r *evaluate.Report) {
	s, p := r.Strip, r.Patch
	fmt.Fprintf(w, "model %s %s (%s) on %s: %d strips, %d defective\n", r.Model.Name, r.Model.Version, r.Model.ShortHash(), r.Images, s.Strips, s.Defective)
	fmt.Fprintf(w, "\nstrip level at pass %.2f / reject %.2f\n", r.Thresholds.Pass, r.Thresholds.Reject)
	fmt.Fprintf(w, "  %-8s %10s %10s\n", "", "defect-free", "defective")
	for _, d := range []verdict.Decision{verdict.Pass, verdict.Review, verdict.Reject} {
		fmt.Fprintf(w, "  %-8s %10d %10d\n", d, s.Table[d][0], s.Table[d][1])
	}
	fmt.Fprintf(w, "  missed (defective auto-passed):     %d of %d (%.1f%%)\n", s.Missed, s.Defective, 100*s.MissedRate)
	fmt.Fprintf(w, "  false alarms (clean auto-rejected): %d of %d (%.1f%%)\n", s.FalseAlarms, s.Strips-s.Defective, 100*s.FalseAlarmRate)
	fmt.Fprintf(w, "  review rate %.1f%%, automation rate %.1f%%\n", 100*s.ReviewRate, 100*s.AutomationRate)
	if r.FamiliarityLimit > 0 {
		fmt.Fprintf(w, "  unfamiliar strips (sent to review whatever their scores): %d of %d (limit %.2f)\n", r.Unfamiliar, s.Strips, r.FamiliarityLimit)
	} else {
		fmt.Fprintf(w, "  unfamiliar strips: not measured (the model has no familiarity statistics)\n")
	}
	fmt.Fprintf(w, "  implausible images (sent to review): %d\n", r.Implausible)
	fmt.Fprintf(w, "\npatch level: %d patches, %d defective (>= %d mask pixels)\n", p.Patches, p.Defective, evaluate.MinDefectPixels)
	fmt.Fprintf(w, "  at pass %.2f:   recall %.4f precision %.4f F2 %.4f  tp %d fp %d tn %d fn %d\n", r.Thresholds.Pass, p.RecallAtPass, p.PrecisionAtPass, p.F2AtPass, p.AtPass.TP, p.AtPass.FP, p.AtPass.TN, p.AtPass.FN)
	fmt.Fprintf(w, "  at reject %.2f: recall %.4f precision %.4f F2 %.4f  tp %d fp %d tn %d fn %d\n", r.Thresholds.Reject, p.RecallAtReject, p.PrecisionAtReject, p.F2AtReject, p.AtReject.TP, p.AtReject.FP, p.AtReject.TN, p.AtReject.FN)
	if p.AUCWhy != "" {
		fmt.Fprintf(w, "  ROC AUC and PR AUC not computed: %s\n", p.AUCWhy)
	} else {
		fmt.Fprintf(w, "  ROC AUC %.4f, PR AUC %.4f\n", float64(p.ROCAUC), float64(p.PRAUC))
	}
	classes := make([]int, 0, len(r.PerClass))
	for c := range r.PerClass {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	fmt.Fprintf(w, "\nper defect class (strips containing it, auto-passed)\n")
	for _, c := range classes {
		fmt.Fprintf(w, "  class %d: %d strips, %d missed\n", c, r.PerClass[c].Strips, r.PerClass[c].Missed)
	}
	if r.Suggested != nil {
		g := r.Suggested
		fmt.Fprintf(w, "\nsuggested thresholds (at most %d missed, fewest false alarms, then least review): pass %.2f reject %.2f\n", r.MaxMissed, g.Thresholds.Pass, g.Thresholds.Reject)
		fmt.Fprintf(w, "  missed %d, false alarms %d, review rate %.1f%%\n", g.Missed, g.FalseAlarms, 100*g.ReviewRate)
		for _, c := range evaluate.Caveats(*g) {
			fmt.Fprintf(w, "  caution: %s\n", c)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
