package learn

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Lines says in plain words, one line each, what learning used and
// measured, for the window's report: the strips, the out-of-fold outcome
// (the third line), what the head reads, the AUCs, a warning when the labels are too few, and
// the files left out.
func (r *Report) Lines() []string {
	lines := []string{
		fmt.Sprintf("Learned from %d strips of %d×%d px: %d defective (%d with masks) and %d defect-free, from %s.",
			r.Used, r.Width, r.Height, r.Defective, r.Masked, r.Clean, strings.Join(r.Sources, ", ")),
		fmt.Sprintf("Each strip was judged by a model and thresholds made without it (%d folds).", r.Folds),
		fmt.Sprintf("At the model's default thresholds: %d of %d defective strips auto-passed, %d of %d defect-free strips auto-rejected, %.0f%% sent to review.",
			r.Missed, r.Defective, r.FalseRejects, r.Clean, 100*r.ReviewShare),
	}
	if r.Features == FeaturesWindows {
		lines = append(lines, fmt.Sprintf("It reads the window features of the bundled model (%s), so it scores a strip as fast; "+
			"a strip unlike this line's strips goes to review (familiarity limit %.2f).", r.Base, r.FamiliarityLimit))
	}
	auc := fmt.Sprintf("Strip ROC AUC %.3f", r.StripAUC)
	if r.PatchAUCWhy == "" {
		auc += fmt.Sprintf(", patch ROC AUC %.3f", r.PatchAUC)
	}
	lines = append(lines, auc+fmt.Sprintf(". Learned in %s.", r.Duration.Round(100_000_000)))
	if r.TooFew != "" {
		lines = append(lines, "Caution: "+r.TooFew+".")
	}
	if r.Capped != "" {
		lines = append(lines, r.Capped+".")
	}
	if n := len(r.Skipped); n > 0 {
		var names []string
		for k, s := range r.Skipped {
			if k == 3 {
				names = append(names, fmt.Sprintf("and %d more", n-3))
				break
			}
			names = append(names, filepath.Base(s.Path)+": "+s.Reason)
		}
		lines = append(lines, fmt.Sprintf("%d files left out: %s.", n, strings.Join(names, "; ")))
	}
	return lines
}
