package learn_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/learn"
	"steelinspect/verdict"
)

// recordShift records a shift in a fresh trail: n strips, of which
// unfamiliar went to review as unfamiliar, review others went to review,
// and the rest were decided automatically, overridden of them changed by
// a person.
func recordShift(t *testing.T, n, unfamiliar, review, overridden int) *audit.Store {
	t.Helper()
	ctx := context.Background()
	store, err := audit.Open(filepath.Join(t.TempDir(), "trail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for k := range n {
		in := audit.Inspection{Source: "watch", Path: fmt.Sprintf("%d.png", k), SHA256: fmt.Sprintf("%064x", k), ModelName: "m",
			ModelVersion: "1", ModelSHA256: strings.Repeat("0", 64), PassThreshold: 0.4, RejectThreshold: 0.65, AutoDecision: verdict.Pass}
		switch {
		case k < unfamiliar:
			in.AutoDecision, in.CautionKinds = verdict.Review, "unfamiliar"
		case k < unfamiliar+review:
			in.AutoDecision = verdict.Review
		}
		id, err := store.Add(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if k >= unfamiliar+review && k < unfamiliar+review+overridden {
			if err := store.Review(ctx, id, verdict.Reject, "olga", "scratch the model missed"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return store
}

// TestDriftSuggestsLearningAgain: the signs are counted from the trail,
// and each one past its limit is named; below the limits nothing is
// suggested.
func TestDriftSuggestsLearningAgain(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Add(time.Minute)
	store := recordShift(t, 100, 12, 8, 6)
	d, err := learn.MeasureDrift(ctx, store, now.Add(-12*time.Hour), now, learn.DefaultDriftLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d.Strips != 100 || d.Unfamiliar != 12 || d.Reviewed != 20 || d.Automatic != 80 || d.Overridden != 6 {
		t.Fatalf("counted %+v", d)
	}
	want := "re-learn suggested: 12 % of the strips unfamiliar, 8 % of automatic decisions overridden"
	if d.Suggest != want {
		t.Errorf("suggestion %q, want %q", d.Suggest, want)
	}
	d, _ = learn.MeasureDrift(ctx, store, now.Add(-12*time.Hour), now, learn.DriftLimits{Unfamiliar: 0.2, Overridden: 0.1, Review: 0.15})
	if d.Suggest != "re-learn suggested: 20 % of the strips sent to review" {
		t.Errorf("with other limits: %q", d.Suggest)
	}
	quiet := recordShift(t, 100, 2, 5, 1)
	if d, _ := learn.MeasureDrift(ctx, quiet, now.Add(-12*time.Hour), now, learn.DefaultDriftLimits); d.Suggest != "" {
		t.Errorf("a quiet shift: %q", d.Suggest)
	}
	// a period with nothing in it suggests nothing
	if d, _ := learn.MeasureDrift(ctx, store, now.Add(-48*time.Hour), now.Add(-24*time.Hour), learn.DefaultDriftLimits); d.Strips != 0 || d.Suggest != "" {
		t.Errorf("an empty period: %+v", d)
	}
}
