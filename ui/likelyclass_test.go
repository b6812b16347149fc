package ui

import (
	"strings"
	"testing"

	"steelinspect/inference"
)

func TestCardNamesTheLikelyClassOfAFlaggedStrip(t *testing.T) {
	a := &inference.Analysis{Patches: []inference.Patch{
		{Probability: 0.2, Class: "class 1"},
		{Probability: 0.9, Class: "class 3"},
		{Probability: 0.7, Class: "class 3"},
	}}
	v := &inference.Verdict{Confidence: 0.9, Recommendation: "Reject", Zones: []inference.Zone{
		inference.ZoneAutoPass, inference.ZoneAutoReject, inference.ZoneManualReview}}
	if got := likelyClassText(a, v); got != " · most likely class 3, 2 patches" {
		t.Errorf("card text %q", got)
	}
	if got := runReasons(a, v, v.Recommendation); !strings.Contains(got, "most likely class 3") {
		t.Errorf("run mode's reasons do not name the class: %q", got)
	}
	v.Zones = []inference.Zone{inference.ZoneAutoPass, inference.ZoneAutoPass, inference.ZoneManualReview}
	if got := likelyClassText(a, v); got != " · most likely class 3" {
		t.Errorf("one flagged patch: card text %q", got)
	}
	v.Zones = make([]inference.Zone, 3)
	if got := likelyClassText(a, v); got != "" {
		t.Errorf("a strip that passes everywhere names a class: %q", got)
	}
}
