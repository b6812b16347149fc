package learn_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"steelinspect/inference"
	"steelinspect/internal/strictjson"
	"steelinspect/learn"
	"steelinspect/models"
	"steelinspect/verdict"
)

// TestWindowModelSeparatesOutOfFoldAndSaysSo: learned on the bundled
// model's window features, the head tells the synthetic strips apart out
// of fold, and the saved model is the bundled graph with the head, its
// classes, the line's own familiarity and texture, and no validated-domain
// check (the line's strips are its domain).
func TestWindowModelSeparatesOutOfFoldAndSaysSo(t *testing.T) {
	res, path := learnedOnWindows(t)
	r := res.Learned
	if r.Features != learn.FeaturesWindows || r.Used != 60 || r.Defective != 30 || r.Masked != 30 {
		t.Fatalf("learned on %q from %d strips (%d defective, %d masked)", r.Features, r.Used, r.Defective, r.Masked)
	}
	if r.StripAUC < 0.95 || r.PatchAUC < 0.95 {
		t.Errorf("out-of-fold strip AUC %.3f, patch AUC %.3f: want both at least 0.95", r.StripAUC, r.PatchAUC)
	}
	if r.Missed > 1 || r.FalseRejects > 1 || r.ReviewShare > 0.5 {
		t.Errorf("out of fold: %d missed, %d clean rejected, %.0f%% review", r.Missed, r.FalseRejects, 100*r.ReviewShare)
	}
	if !slices.Contains([]float64{3e-4, 3e-3, 3e-2, 0.3, 3}, r.L2) {
		t.Errorf("ridge %g is none of the candidates", r.L2)
	}
	var m inference.Manifest
	if err := strictjson.Decode(mustRead(t, path), &m); err != nil {
		t.Fatalf("saved manifest: %v", err)
	}
	base, _, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	h := m.WindowHead
	switch {
	case h == nil || m.Anomaly != nil || !m.IsLearned():
		t.Fatalf("saved model: window head %v, anomaly %v", h != nil, m.Anomaly != nil)
	case len(h.Weights) != 1280 || len(h.Classes) < 2 || !(h.Mapping.Scale > 0):
		t.Errorf("window head of %d weights, classes %v, mapping %+v", len(h.Weights), h.Classes, h.Mapping)
	case m.SHA256 != base.SHA256 || m.Output.Features != base.Output.Features || m.Output.Domain != "":
		t.Errorf("graph %s (bundled %s), features %q, domain %q: want the bundled graph without its domain check",
			m.SHA256[:12], base.SHA256[:12], m.Output.Features, m.Output.Domain)
	case m.Familiarity == nil || m.Familiarity.Limit <= 0 || m.Texture == nil || m.Texture.Strips != 30:
		t.Errorf("familiarity %+v, texture %+v", m.Familiarity, m.Texture)
	case h.LearnedOn.Strips != 60 || m.LearnedOn() != &m.WindowHead.LearnedOn:
		t.Errorf("learned on %+v", h.LearnedOn)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), m.Familiarity.File)); err != nil {
		t.Errorf("familiarity file: %v", err)
	}
}

// TestWindowModelScoresAsLearningMeasured: opened like any other model,
// the station model scores each patch as its head says from the window
// features the bundled model computes, names a class, and judges new clean
// strips of the line (never learned on) familiar and below a defective one.
func TestWindowModelScoresAsLearningMeasured(t *testing.T) {
	res, path := learnedOnWindows(t)
	e, err := inference.OpenModel(path, inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	h := res.Manifest.WindowHead
	a, img := analyzeDefective(t, e)
	feats, err := base.PatchFeatures(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) != len(a.Patches) {
		t.Fatalf("%d windows, %d patches", len(feats), len(a.Patches))
	}
	for i, p := range a.Patches {
		s := h.Bias
		for k, w := range h.Weights {
			s += w * float64(feats[i][k])
		}
		if want := h.Mapping.Probability(s); math.Abs(float64(p.Probability-want)) > 1e-4 {
			t.Fatalf("patch at x=%d: engine %.5f, head %.5f", p.X, p.Probability, want)
		}
		if !slices.Contains(h.Classes, p.Class) {
			t.Errorf("patch at x=%d: class %q is none of %v", p.X, p.Class, h.Classes)
		}
	}
	if v, err := a.Decide(res.Manifest.DefaultThresholds); err != nil || v.Decision == verdict.Pass {
		t.Errorf("a defective strip it learned on: %v %v (%v)", v.Decision, err, a.Probabilities())
	}
	worst := slices.Max(a.Probabilities())
	good, _ := filepath.Glob(filepath.Join(goodDir, "*.jpg"))
	below, familiar := 0, 0
	for _, f := range good[:12] {
		ga, err := e.AnalyzeFile(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		below += b2i(slices.Max(ga.Probabilities()) < worst)
		familiar += b2i(ga.Familiarity != nil && !ga.Familiarity.Unfamiliar)
	}
	if below < 11 || familiar < 11 {
		t.Errorf("of 12 new clean strips, %d score below a defective one (%.3f) and %d are familiar", below, worst, familiar)
	}
}

// TestWindowLearningAgainReadsTheCache: a second run reads every strip's
// window features from the cache and learns the same head and familiarity.
func TestWindowLearningAgainReadsTheCache(t *testing.T) {
	res, _ := learnedOnWindows(t)
	again, err := learn.Learn(context.Background(), learn.Options{
		Labelled: []string{heldoutDir}, Name: "station-heldout", CacheDir: sharedWindows.cache, Folds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again.Learned.Cached != 60 {
		t.Errorf("%d of 60 strips came from the cache", again.Learned.Cached)
	}
	if !slices.Equal(again.Manifest.WindowHead.Weights, res.Manifest.WindowHead.Weights) ||
		again.Manifest.Familiarity.SHA256 != res.Manifest.Familiarity.SHA256 {
		t.Error("learning again on the same strips gave another head or familiarity")
	}
}

// TestBrokenWindowHeadIsRefusedPlainly: a window head the engine could not
// run as learned is refused with its reason, when the manifest is read or
// when the model is opened.
func TestBrokenWindowHeadIsRefusedPlainly(t *testing.T) {
	res, _ := learnedOnWindows(t)
	_, onnx, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	broken := func(change func(m *inference.Manifest)) *inference.Manifest {
		m := *res.Manifest
		h := *m.WindowHead
		h.Weights = slices.Clone(h.Weights)
		m.WindowHead = &h
		change(&m)
		return &m
	}
	for _, c := range []struct {
		name   string
		change func(m *inference.Manifest)
		want   string
	}{
		{"hidden units", func(m *inference.Manifest) { m.WindowHead.Hidden = [][]float64{{1}} }, "logistic head"},
		{"no mapping", func(m *inference.Manifest) { m.WindowHead.Mapping.Scale = 0 }, "positive scale"},
		{"NaN weight", func(m *inference.Manifest) { m.WindowHead.Weights[3] = math.NaN() }, "window_head's weights and bias must be finite"},
		{"no features", func(m *inference.Manifest) { m.Output.Features = "" }, "window_head needs"},
	} {
		err := broken(c.change).Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	short := broken(func(m *inference.Manifest) {
		m.WindowHead.Weights = m.WindowHead.Weights[:100]
		m.WindowHead.Classes, m.WindowHead.ClassWeights, m.WindowHead.ClassBias = nil, nil, nil
	})
	if err := short.Validate(); err != nil {
		t.Fatalf("100 weights are a valid head by themselves: %v", err)
	}
	e, err := inference.NewEngine(short, onnx, "test", inference.EngineOptions{})
	if err == nil {
		e.Close()
		t.Fatal("a head of 100 weights over 1,280 window features opened")
	}
	if !strings.Contains(err.Error(), "100 weights") {
		t.Errorf("error %q does not say what is wrong", err)
	}
}
