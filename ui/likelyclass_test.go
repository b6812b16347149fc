package ui

import (
	"strings"
	"testing"

	"steelinspect/inference"
	"steelinspect/verdict"
)

func TestCardNamesTheLikelyClassOfAFlaggedStrip(t *testing.T) {
	a := &inference.Analysis{Patches: []verdict.Patch{
		{Probability: 0.2, Class: "class 1"},
		{Probability: 0.9, Class: "class 3"},
		{Probability: 0.7, Class: "class 3"},
	}}
	v := &verdict.Verdict{Confidence: 0.9, Recommendation: "Reject", Zones: []verdict.Zone{
		verdict.ZoneAutoPass, verdict.ZoneAutoReject, verdict.ZoneManualReview}}
	if got := likelyClassText(a, v); got != " · most likely class 3, 2 patches" {
		t.Errorf("card text %q", got)
	}
	if got := runReasons(a, v, v.Recommendation); !strings.Contains(got, "most likely class 3") {
		t.Errorf("run mode's reasons do not name the class: %q", got)
	}
	if got := runReasons(a, v, v.Recommendation); strings.Contains(got, "a guess") {
		t.Errorf("run mode calls a score without a caution a guess: %q", got)
	}
	// with a caution, run mode's line calls the score a guess, as the card does
	c := verdict.Caution{Reason: "unfamiliar strip: not the steel the model was validated on"}
	a.Cautions, v.Cautions = []verdict.Caution{c}, []verdict.Caution{c}
	if got := runReasons(a, v, v.Recommendation); !strings.HasPrefix(got, "Defect score 90.0 % · a guess") ||
		!strings.Contains(got, "\n"+c.Reason) {
		t.Errorf("run mode's reasons on an unfamiliar strip: %q", got)
	}
	a.Cautions, v.Cautions = nil, nil
	v.Zones = []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoPass, verdict.ZoneManualReview}
	if got := likelyClassText(a, v); got != " · most likely class 3" {
		t.Errorf("one flagged patch: card text %q", got)
	}
	v.Zones = make([]verdict.Zone, 3)
	if got := likelyClassText(a, v); got != "" {
		t.Errorf("a strip that passes everywhere names a class: %q", got)
	}
}
