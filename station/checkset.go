package station

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/verdict"
)

// The check set is a station's own labelled strips (a folder in Severstal
// layout: train_images/ and train.csv, an image without rows being
// defect-free), registered once by a supervisor. Every model is scored on
// it before it goes live, beside the model in use, so that nobody
// switches to a model whose defect recall on this line is unknown without
// saying so; the figures, or their absence, are recorded with the switch
// (the sign-off).

// Settings the check set and the sign-off are recorded as.
const (
	SettingCheckSet = "check_set"
	// SettingSignOff is "SHA256 checked: FIGURES" or "SHA256 unchecked:
	// WHY" for the model that went live.
	SettingSignOff = "model_signoff"
)

// CheckSet is a station's registered check set.
type CheckSet struct {
	Dir string
	By  string
	At  time.Time
}

// RegisteredCheckSet is the station's check set; nil when none was
// registered.
func RegisteredCheckSet(ctx context.Context, store *audit.Store) (*CheckSet, error) {
	if store == nil {
		return nil, nil
	}
	latest, err := store.LatestSettingChanges(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := latest[SettingCheckSet]
	if !ok || c.NewValue == "" {
		return nil, nil
	}
	return &CheckSet{Dir: c.NewValue, By: c.ChangedBy, At: c.ChangedAt}, nil
}

// RegisterCheckSet checks that dir is a usable check set (its labels read,
// defective and defect-free strips both present) and records it as the
// station's, by who.
func RegisterCheckSet(ctx context.Context, store *audit.Store, who, dir string) (*CheckSet, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &CheckSet{Dir: abs, By: who}
	labels, _, err := c.labels()
	if err != nil {
		return nil, err
	}
	defective := 0
	for _, s := range labels.Strips {
		if s.Defective() {
			defective++
		}
	}
	images := 0
	for _, f := range files.ListImages(c.ImagesDir(), false) {
		if f.Err == nil {
			images++
		}
	}
	if defective == 0 || images <= defective {
		return nil, fmt.Errorf("check set %s: %d strips, %d of them defective: it needs defective and defect-free strips of this line", abs, images, defective)
	}
	old, err := RegisteredCheckSet(ctx, store)
	if err != nil {
		return nil, err
	}
	was := ""
	if old != nil {
		was = old.Dir
	}
	if err := store.AddSettingChange(ctx, who, SettingCheckSet, was, abs); err != nil {
		return nil, err
	}
	return c, nil
}

// ImagesDir is the check set's folder of strips.
func (c *CheckSet) ImagesDir() string { return filepath.Join(c.Dir, "train_images") }

// Labels reads the check set's labels.
func (c *CheckSet) Labels() (*evaluate.Labels, error) {
	l, _, err := c.labels()
	return l, err
}

// labels reads the check set's train.csv for strips of the size its first
// image has.
func (c *CheckSet) labels() (*evaluate.Labels, string, error) {
	csvPath := filepath.Join(c.Dir, "train.csv")
	width, height := evaluate.StripWidth, evaluate.StripHeight
	for _, f := range files.ListImages(c.ImagesDir(), false) {
		if f.Err == nil {
			if w, h, err := inference.ImageFileSize(f.Path); err == nil {
				width, height = w, h
				break
			}
		}
	}
	r, err := os.Open(csvPath)
	if err != nil {
		return nil, csvPath, fmt.Errorf("check set %s: a folder in Severstal layout needs train_images/ and train.csv: %w", c.Dir, errors.Unwrap(err))
	}
	defer r.Close()
	labels, err := evaluate.ParseLabels(r, width, height)
	if err != nil {
		return nil, csvPath, fmt.Errorf("%s: %s", csvPath, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return labels, csvPath, nil
}

// Check scores a model on the check set at thresholds t.
func (c *CheckSet) Check(ctx context.Context, a evaluate.Analyzer, t verdict.Thresholds) (*evaluate.Report, error) {
	labels, _, err := c.labels()
	if err != nil {
		return nil, err
	}
	return evaluate.Run(ctx, a, c.ImagesDir(), labels, t, 0)
}

// CheckFigures says in one line how a model fared on the check set.
func CheckFigures(r *evaluate.Report) string {
	s := r.Strip
	return fmt.Sprintf("missed %d of %d defective, clean auto-rejected %d of %d, review %.0f %%",
		s.Missed, s.Defective, s.FalseAlarms, s.Strips-s.Defective, 100*s.ReviewRate)
}

// Unchecked is what the sign-off says of a model switched to without a
// check on this line's labelled strips.
const Unchecked = "defect recall unknown: not checked on labelled strips of this line"

// RecordSignOff records that model went live on this station by who,
// checked with figures (CheckFigures) or, with figures "", unchecked.
func RecordSignOff(ctx context.Context, store *audit.Store, who string, model verdict.ModelIdentity, figures string) error {
	latest, err := store.LatestSettings(ctx)
	if err != nil {
		return err
	}
	now := model.SHA256 + " unchecked: " + Unchecked
	if figures != "" {
		now = model.SHA256 + " checked: " + figures
	}
	return store.AddSettingChange(ctx, who, SettingSignOff, latest[SettingSignOff], now)
}

// SignOff is what the trail says of the model in use on this station.
type SignOff struct {
	// Checked: the model went live after a check on the station's check
	// set, with Figures.
	Checked bool
	Figures string
	By      string
	At      time.Time
}

// SignOffOf is the sign-off of model on this station; nil when the trail
// records none for it (it went live before sign-offs, or it is the
// bundled model nobody checked).
func SignOffOf(ctx context.Context, store *audit.Store, model verdict.ModelIdentity) (*SignOff, error) {
	if store == nil {
		return nil, nil
	}
	latest, err := store.LatestSettingChanges(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := latest[SettingSignOff]
	if !ok || !strings.HasPrefix(c.NewValue, model.SHA256+" ") {
		return nil, nil
	}
	rest := strings.TrimPrefix(c.NewValue, model.SHA256+" ")
	s := &SignOff{By: c.ChangedBy, At: c.ChangedAt}
	if figures, ok := strings.CutPrefix(rest, "checked: "); ok {
		s.Checked, s.Figures = true, figures
	} else {
		s.Figures = strings.TrimPrefix(rest, "unchecked: ")
	}
	return s, nil
}
