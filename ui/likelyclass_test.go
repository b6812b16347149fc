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
	v.Zones = []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoPass, verdict.ZoneManualReview}
	if got := likelyClassText(a, v); got != " · most likely class 3" {
		t.Errorf("one flagged patch: card text %q", got)
	}
	v.Zones = make([]verdict.Zone, 3)
	if got := likelyClassText(a, v); got != "" {
		t.Errorf("a strip that passes everywhere names a class: %q", got)
	}
}
