package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/verdict"
)

// MinDefectPixels is the seed's patch label rule: a patch is defective when
// its merged defect mask has at least this many pixels.
const MinDefectPixels = 50

// Analyzer scores image files (an *inference.Engine).
type Analyzer interface {
	AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error)
	Manifest() *inference.Manifest
}

// StripResult is one labelled strip after scoring.
type StripResult struct {
	ImageID       string    `json:"image"`
	Error         string    `json:"error,omitempty"`
	Defective     bool      `json:"defective"`
	Classes       []int     `json:"classes,omitempty"`
	Confidence    float64   `json:"confidence"`
	Probabilities []float32 `json:"probabilities,omitempty"`
	PatchTruth    []bool    `json:"patch_truth,omitempty"`
	// Cautions sent the strip to review whatever its confidence.
	Cautions    []verdict.Caution         `json:"cautions,omitempty"`
	Familiarity *verdict.StripFamiliarity `json:"familiarity,omitempty"`
}

// Decision is the strip's decision at t: its confidence's zone, or REVIEW
// when it has a caution.
func (s *StripResult) Decision(t verdict.Thresholds) verdict.Decision {
	if len(s.Cautions) > 0 {
		return verdict.Review
	}
	return verdict.Decision(verdict.ZoneOf(s.Confidence, t))
}

// PatchMetrics are detection metrics over all patches.
type PatchMetrics struct {
	Patches           int       `json:"patches"`
	Defective         int       `json:"defective"`
	AtPass            Confusion `json:"confusion_at_pass"`
	AtReject          Confusion `json:"confusion_at_reject"`
	RecallAtPass      float64   `json:"recall_at_pass"`
	PrecisionAtPass   float64   `json:"precision_at_pass"`
	F2AtPass          float64   `json:"f2_at_pass"`
	RecallAtReject    float64   `json:"recall_at_reject"`
	PrecisionAtReject float64   `json:"precision_at_reject"`
	F2AtReject        float64   `json:"f2_at_reject"`
	ROCAUC            Metric    `json:"roc_auc"`
	PRAUC             Metric    `json:"pr_auc"`
	// AUCWhy says why the AUCs are null, when they are.
	AUCWhy string `json:"auc_why,omitempty"`
}

// ClassMisses counts, for one defect class, the strips containing it and
// how many of those were auto-passed.
type ClassMisses struct {
	Strips int `json:"strips"`
	Missed int `json:"missed"`
}

// Report is the full evaluation.
type Report struct {
	Images     string                `json:"images"`
	Model      verdict.ModelIdentity `json:"model"`
	Thresholds verdict.Thresholds    `json:"thresholds"`
	Problems   []string              `json:"problems,omitempty"`
	Notes      []string              `json:"notes,omitempty"`
	Strip      StripOutcome          `json:"strip"`
	// Unfamiliar and Implausible count the strips with each caution (a
	// strip may have both); they go to review whatever their confidence.
	Unfamiliar  int `json:"unfamiliar"`
	Implausible int `json:"implausible"`
	// FamiliarityLimit is the model's limit (0 for a model without
	// familiarity statistics).
	FamiliarityLimit float64             `json:"familiarity_limit,omitempty"`
	Patch            PatchMetrics        `json:"patch"`
	PerClass         map[int]ClassMisses `json:"per_class"`
	MaxMissed        int                 `json:"max_missed"`
	Suggested        *StripOutcome       `json:"suggested,omitempty"`
	Strips           []StripResult       `json:"strips"`
}

// Run scores every image in imagesDir against labels and measures the
// outcome at thresholds t. Images listed in the labels but missing, and
// images that fail to decode, are reported as problems and left out of the
// metrics; images present but not listed count as defect-free (the
// Severstal convention) and are noted.
func Run(ctx context.Context, a Analyzer, imagesDir string, labels *Labels, t verdict.Thresholds, maxMissed int) (*Report, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(imagesDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("images folder: %s is not a folder that can be read", imagesDir)
	}
	present := map[string]bool{}
	var names, skipped []string
	for _, f := range files.ListImages(imagesDir, false) {
		name := filepath.Base(f.Path)
		if f.Err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: skipped: %v", name, f.Err))
			continue
		}
		present[name] = true
		names = append(names, name)
	}
	r := &Report{Images: imagesDir, Model: a.Manifest().Identity(), Thresholds: t, MaxMissed: maxMissed, PerClass: map[int]ClassMisses{}}
	if f := a.Manifest().Familiarity; f != nil {
		r.FamiliarityLimit = f.Limit
	}
	var missing []string
	for id, s := range labels.Strips {
		if !present[id] {
			missing = append(missing, fmt.Sprintf("%s (line %d) is listed but not in %s", id, firstLine(s), imagesDir))
		}
	}
	sort.Strings(missing)
	r.Problems = append(append(r.Problems, skipped...), missing...)
	unlisted := 0
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := labels.Strips[name]
		if s == nil {
			unlisted++
			s = &StripLabels{ImageID: name}
		}
		res := scoreStrip(ctx, a, filepath.Join(imagesDir, name), s)
		if res.Error != "" {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %s", name, res.Error))
		}
		r.Strips = append(r.Strips, res)
	}
	if unlisted > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d images are not listed in the labels and count as defect-free", unlisted))
	}
	r.measure()
	return r, nil
}

func firstLine(s *StripLabels) int {
	first := 0
	for _, l := range s.Lines {
		if first == 0 || l < first {
			first = l
		}
	}
	return first
}

func scoreStrip(ctx context.Context, a Analyzer, path string, s *StripLabels) StripResult {
	res := StripResult{ImageID: s.ImageID, Defective: s.Defective(), Classes: s.ClassIDs()}
	an, err := a.AnalyzeFile(ctx, path)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	mask, err := s.MergedMask(an.Image.Width, an.Image.Height)
	if err != nil {
		res.Error = fmt.Sprintf("labels do not fit the %d×%d image: %v", an.Image.Width, an.Image.Height, err)
		return res
	}
	res.Probabilities = an.Probabilities()
	res.Cautions, res.Familiarity = an.Cautions, an.Familiarity
	res.PatchTruth = make([]bool, len(an.Patches))
	for i, p := range an.Patches {
		res.PatchTruth[i] = mask.Count(p.X, p.Y, p.X+p.W, p.Y+p.H) >= MinDefectPixels
		res.Confidence = max(res.Confidence, float64(p.Probability))
	}
	return res
}

// measure fills the metrics from the scored strips.
func (r *Report) measure() {
	var conf []float64
	var defective, held []bool
	var scores []float32
	var truth []bool
	for _, s := range r.Strips {
		if s.Error != "" {
			continue
		}
		conf = append(conf, s.Confidence)
		defective = append(defective, s.Defective)
		held = append(held, len(s.Cautions) > 0)
		for _, c := range s.Cautions {
			switch c.Kind {
			case verdict.CautionUnfamiliar:
				r.Unfamiliar++
			case verdict.CautionImplausible:
				r.Implausible++
			}
		}
		scores = append(scores, s.Probabilities...)
		truth = append(truth, s.PatchTruth...)
		passed := s.Decision(r.Thresholds) == verdict.Pass
		for _, c := range s.Classes {
			m := r.PerClass[c]
			m.Strips++
			if passed {
				m.Missed++
			}
			r.PerClass[c] = m
		}
	}
	r.Strip = OutcomeHeld(conf, defective, held, r.Thresholds)
	p := &r.Patch
	p.Patches = len(scores)
	for _, t := range truth {
		if t {
			p.Defective++
		}
	}
	p.AtPass = ConfusionAt(scores, truth, r.Thresholds.Pass)
	p.AtReject = ConfusionAt(scores, truth, r.Thresholds.Reject)
	p.RecallAtPass, p.PrecisionAtPass, p.F2AtPass = p.AtPass.Recall(), p.AtPass.Precision(), p.AtPass.F2()
	p.RecallAtReject, p.PrecisionAtReject, p.F2AtReject = p.AtReject.Recall(), p.AtReject.Precision(), p.AtReject.F2()
	p.ROCAUC = Metric(ROCAUC(scores, truth))
	p.PRAUC = Metric(AveragePrecision(scores, truth))
	if p.Defective == 0 || p.Defective == p.Patches {
		p.AUCWhy = fmt.Sprintf("one class only in this split (%d defective, %d defect-free patches)",
			p.Defective, p.Patches-p.Defective)
	}
	if best, ok := Suggest(SweepHeld(conf, defective, held), r.MaxMissed); ok {
		r.Suggested = &best
	}
}
