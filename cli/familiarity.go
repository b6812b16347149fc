package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"steelinspect/inference"
	"steelinspect/internal/files"
)

// runFamiliarity fits a model's familiarity statistics on its training
// strips and their limit on held-out strips, and writes both beside the
// model (NAME.familiarity.json, hashed in the manifest).
//
// Cyclomatic complexity above 15, kept: a command read top to bottom: flags, their checks, fitting, the limit, writing; each branch is one refusal with its own message.
//
//gocyclo:ignore
func runFamiliarity(args []string, env Env) error {
	fs := newFlagSet("familiarity", env)
	var common commonFlags
	common.register(fs)
	var fit, limitOn multiFlag
	fs.Var(&fit, "fit", "`folder` of the model's training strips to fit the statistics on (repeatable, searched recursively)")
	fs.Var(&limitOn, "limit-on", "`folder` of held-out strips the limit is fitted on (repeatable)")
	components := fs.Int("components", 32, "principal components kept")
	share := fs.Float64("share", 0.99, "share of the held-out strips that must count as familiar")
	margin := fs.Float64("margin", 1.25, "the limit is the held-out strips' score at --share times this")
	maxFit := fs.Int("max-fit", 800, "at most this many training strips (an even sample)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	switch {
	case common.model == "":
		return fmt.Errorf("%w: --model is required (the statistics are written beside it)", errUsage)
	case len(fit) == 0 || len(limitOn) == 0:
		return fmt.Errorf("%w: need at least one --fit and one --limit-on folder", errUsage)
	case *share <= 0 || *share > 1 || *margin < 1:
		return fmt.Errorf("%w: --share must be in (0,1] and --margin at least 1", errUsage)
	}
	manifestPath, m, e, domain, err := openForFamiliarity(common)
	if err != nil {
		return err
	}
	defer e.Close()
	ctx := context.Background()

	fitFiles, err := imageFiles(fit)
	if err != nil {
		return err
	}
	fitFiles = evenSample(fitFiles, *maxFit)
	var feats [][]float32
	for _, f := range fitFiles {
		v, err := patchFeatures(ctx, e, f)
		if err != nil {
			return err
		}
		feats = append(feats, v...)
	}
	k := *components
	if limit := max(1, len(feats)/8); k > limit {
		// a small fit: a component's variance needs several windows per
		// dimension kept, or the held-out strips all look unfamiliar
		k = limit
		fmt.Fprintf(env.Stderr, "steelinspect familiarity: only %d training windows, keeping %d components\n", len(feats), k)
	}
	stats, err := inference.FitFamiliarity(feats, k)
	if err != nil {
		return err
	}
	stats.Domain = domain // the validated-domain check is fitted by training/domain_check.py, kept as it is
	limitFiles, err := imageFiles(limitOn)
	if err != nil {
		return err
	}
	scores := make([]float64, len(limitFiles))
	for i, f := range limitFiles {
		v, err := patchFeatures(ctx, e, f)
		if err != nil {
			return err
		}
		patch := make([]float64, len(v))
		for j, w := range v {
			patch[j] = stats.WindowScore(w, 1)
		}
		scores[i] = inference.StripScore(patch)
	}
	limit, err := inference.FamiliarityLimit(scores, *share, *margin)
	if err != nil {
		return err
	}
	familiar := 0
	for _, s := range scores {
		if s <= limit {
			familiar++
		}
	}
	data, err := stats.Marshal()
	if err != nil {
		return err
	}
	stem := strings.TrimSuffix(filepath.Base(manifestPath), inference.ManifestSuffix)
	famName := stem + ".familiarity.json"
	if err := files.WriteAtomic(filepath.Join(filepath.Dir(manifestPath), famName), data); err != nil {
		return err
	}
	m.Familiarity = &inference.FamiliaritySpec{
		File: famName, SHA256: inference.SHA256Hex(data), Limit: limit, Method: inference.FamiliarityMethod,
		FittedOn: fmt.Sprintf("%d windows of %d strips in %s", stats.Windows, len(fitFiles), strings.Join(fit, ", ")),
		LimitFittedOn: fmt.Sprintf("%d held-out strips in %s (score at the %.0fth percentile × %.2f)",
			len(scores), strings.Join(limitOn, ", "), 100**share, *margin),
		HeldoutFamiliar: float64(familiar) / float64(len(scores)),
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := files.WriteAtomic(manifestPath, append(out, '\n')); err != nil {
		return err
	}
	sort.Float64s(scores)
	fmt.Fprintf(env.Stdout, "familiarity of %s: %d components from %d windows of %d strips; held-out strip scores "+
		"min %.2f median %.2f max %.2f; limit %.2f leaves %d of %d familiar; wrote %s and updated %s\n",
		m.Name, len(stats.Components), stats.Windows, len(fitFiles), scores[0], scores[len(scores)/2],
		scores[len(scores)-1], limit, familiar, len(scores), famName, manifestPath)
	return nil
}

// openForFamiliarity opens a model without any familiarity statistics it
// may already have (they are being refitted); it returns the validated-
// domain check of those statistics, if any, to be kept. The model's files
// are read the one way every model is (inference.LoadModelFiles: size
// bounds, and each part's sha256 checked against the manifest).
func openForFamiliarity(common commonFlags) (string, *inference.Manifest, *inference.Engine, *inference.DomainCheck, error) {
	manifestPath, err := inference.ModelFiles(common.model)
	if err != nil {
		return "", nil, nil, nil, err
	}
	m, data, err := inference.LoadModelFiles(manifestPath)
	if err != nil {
		return "", nil, nil, nil, err
	}
	if m.IsAnomaly() {
		return "", nil, nil, nil, fmt.Errorf("model %q is an anomaly model (taught on good strips): its probabilities already measure how unlike those strips a strip is, it takes no familiarity statistics", m.Name)
	}
	domain := m.DomainCheck()
	m.Familiarity = nil
	e, err := inference.NewEngine(m, data, common.model, inference.EngineOptions{LibraryPath: common.ortLib})
	if err != nil {
		return "", nil, nil, nil, err
	}
	if e.FeatureDim() == 0 {
		e.Close()
		return "", nil, nil, nil, fmt.Errorf("model %q has no features output (manifest output.features): familiarity cannot be measured", m.Name)
	}
	return manifestPath, m, e, domain, nil
}

func patchFeatures(ctx context.Context, e *inference.Engine, path string) ([][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := inference.DecodeImage(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e.PatchFeatures(ctx, img.Image)
}

// imageFiles lists the image files under the folders (scan's walk), and
// fails on the first one that cannot be listed.
func imageFiles(dirs []string) ([]string, error) {
	var files []string
	for _, t := range expandPaths(dirs) {
		if t.err != nil {
			return nil, fmt.Errorf("%s: %w", t.path, t.err)
		}
		files = append(files, t.path)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no image files in %s", strings.Join(dirs, ", "))
	}
	return files, nil
}

// evenSample keeps at most n of files, evenly spread.
func evenSample(files []string, n int) []string {
	if n <= 0 || len(files) <= n {
		return files
	}
	out := make([]string, n)
	for i := range out {
		out[i] = files[i*len(files)/n]
	}
	return out
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
