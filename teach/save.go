package teach

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/internal/files"
)

// progressor turns steps into Progress reports, with the time left
// estimated from the share of the work done. Each stage covers a share of
// the whole: it starts at from and weighs weight.
type progressor struct {
	fn    func(Progress)
	start time.Time
	last  time.Time
}

func newProgressor(fn func(Progress), start time.Time) *progressor {
	return &progressor{fn: fn, start: start}
}

func (p *progressor) report(stage string, done, total int, from, weight float64) {
	if p.fn == nil || total <= 0 {
		return
	}
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	frac := from + weight*float64(done)/float64(total)
	var left time.Duration
	if frac > 0.02 && elapsed > time.Second {
		left = time.Duration(float64(elapsed) * (1 - frac) / frac)
	}
	p.fn(Progress{Stage: stage, Done: done, Total: total, Elapsed: elapsed, Left: left})
}

// describe writes what the model was taught on and measured to do into its
// manifest.
func describe(m *inference.Manifest, rep *Report) {
	m.Version = "1.0.0"
	m.Anomaly.Taught = inference.TaughtOn{Folder: rep.Folder, Strips: rep.Taught, HeldOut: len(rep.HeldOut),
		Width: rep.Width, Height: rep.Height, Skipped: len(rep.Unreadable), Flagged: len(rep.Flagged)}
	m.Provenance = inference.Provenance{
		Description: fmt.Sprintf("Anomaly model taught on the good strips of %s: memory bank of %d cell features "+
			"(%s in memory) chosen by greedy coreset from %d cells of %d strips. A patch's probability "+
			"grows with its distance to normal steel.", rep.Folder, rep.BankRows, mib(rep.BankBytes), rep.PoolCells, rep.Taught),
		TrainedOn: fmt.Sprintf("%d defect-free %d×%d strips from %s (%d held out; %d unreadable and %d flagged left out)",
			rep.Taught, rep.Width, rep.Height, rep.Folder, len(rep.HeldOut), len(rep.Unreadable), len(rep.Flagged)),
		Training: "steelinspect teach (no labels, no Python): " + m.Provenance.Description,
		Date:     time.Now().UTC().Format(time.RFC3339),
		Heldout: fmt.Sprintf("%d good strips of the same folder, not taught on, fix the score mapping (all of them pass by design); "+
			"judged each by a mapping fitted on the others, %.0f%% would be auto-passed at the default thresholds",
			len(rep.HeldOut), 100*rep.NewGoodPassShare),
		Metrics: map[string]any{
			"heldout_strips":             len(rep.HeldOut),
			"heldout_pass_share":         round(rep.PassShare),
			"new_good_pass_share":        round(rep.NewGoodPassShare),
			"heldout_review_share":       round(rep.ReviewShare),
			"heldout_reject_share":       round(rep.RejectShare),
			"heldout_probability_min":    round(rep.ProbabilityMin),
			"heldout_probability_median": round(rep.ProbabilityMedian),
			"heldout_probability_max":    round(rep.ProbabilityMax),
			"heldout_distance_median":    round(rep.DistanceMedian),
			"heldout_distance_p99":       round(rep.DistanceP99),
			"heldout_distance_max":       round(rep.DistanceMax),
			"teach_seconds":              round(rep.Duration.Seconds()),
		},
	}
	rep.Mapping = m.Anomaly.Mapping
}

func round(v float64) float64 { return float64(int64(v*1e4+0.5*sign(v))) / 1e4 }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ManifestPath is where Save writes a model named name in dir.
func ManifestPath(dir, name string) string { return filepath.Join(dir, name+inference.ManifestSuffix) }

// Save writes the model beside path (its manifest path, or its .onnx):
// NAME.onnx, NAME.bank (an anomaly model), NAME.familiarity.json (a model
// with familiarity statistics) and NAME.manifest.json. Each file goes through a
// temporary file and a rename, the manifest last, so an interrupted save
// never leaves a model that opens half-written. An existing model of the
// same name is refused unless overwrite is set. It returns the manifest's
// path.
func (r *Result) Save(path string, overwrite bool) (string, error) {
	dir, name := filepath.Dir(path), filepath.Base(path)
	name = strings.TrimSuffix(strings.TrimSuffix(name, inference.ManifestSuffix), ".onnx")
	if name != r.Manifest.Name {
		return "", fmt.Errorf("%s: a model named %q is saved as %s%s (rename with --name)", path, r.Manifest.Name, r.Manifest.Name, inference.ManifestSuffix)
	}
	manifestPath := ManifestPath(dir, name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("cannot save into %s: not a folder", dir)
	}
	if _, err := os.Stat(manifestPath); err == nil && !overwrite {
		return "", fmt.Errorf("%s already exists: choose another --name, or overwrite it with --force", manifestPath)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	manifest, err := json.MarshalIndent(r.Manifest, "", "  ")
	if err != nil {
		return "", err
	}
	if err := r.saveParts(dir); err != nil {
		return "", err
	}
	if err := files.WriteAtomic(manifestPath, append(manifest, '\n')); err != nil {
		return "", fmt.Errorf("save manifest: %w", err)
	}
	return manifestPath, nil
}

// saveParts writes the files the manifest names into dir: the model, and
// the memory bank or the familiarity statistics when it has them.
func (r *Result) saveParts(dir string) error {
	if err := files.WriteAtomic(filepath.Join(dir, r.Manifest.File), r.ONNX); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if a := r.Manifest.Anomaly; a != nil {
		if err := files.WriteAtomic(filepath.Join(dir, a.Bank.File), r.Bank); err != nil {
			return fmt.Errorf("save memory bank: %w", err)
		}
	}
	if f := r.Manifest.Familiarity; f != nil && r.Familiarity != nil {
		if err := files.WriteAtomic(filepath.Join(dir, f.File), r.Familiarity); err != nil {
			return fmt.Errorf("save familiarity statistics: %w", err)
		}
	}
	return nil
}
