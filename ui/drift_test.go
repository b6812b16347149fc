package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/learn"
	"steelinspect/verdict"
)

// TestDriftLineSuggestsLearningAgain: a shift whose strips are often
// unfamiliar makes the window suggest learning again, saying why; once
// the supervisor's recorded limit is above the share, the line goes.
func TestDriftLineSuggestsLearningAgain(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	for k := range 25 {
		in := audit.Inspection{Source: "scan", Path: fmt.Sprintf("%d.png", k), SHA256: fmt.Sprintf("%064x", k), ModelName: "m",
			ModelVersion: "1", AutoDecision: verdict.Pass}
		if k < 10 {
			in.AutoDecision, in.CautionKinds = verdict.Review, "unfamiliar"
		}
		if _, err := store.Add(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, Options{Station: onTrail(store)})
	h.waitIdle()
	line := h.ins.card.driftLine
	if !line.Visible() || !strings.Contains(line.Text, "re-learn suggested: 40 % of the strips unfamiliar") || !strings.Contains(line.Text, "Learn from decisions") {
		t.Fatalf("drift line shown %v: %q", line.Visible(), line.Text)
	}
	if err := learn.RecordDriftLimits(ctx, store, "sue", learn.DriftLimits{Unfamiliar: 0.5, Overridden: 0.05, Review: 0.5}); err != nil {
		t.Fatal(err)
	}
	h.ins.refreshDrift(true)
	h.waitIdle()
	if line.Visible() {
		t.Errorf("drift line stays above the supervisor's limits: %q", line.Text)
	}
}
