package inference

import (
	"testing"

	"steelinspect/verdict"
)

func TestRecordCarriesTheLikelyClass(t *testing.T) {
	a := &Analysis{Patches: []verdict.Patch{{Probability: 0.2, Class: "class 2"}, {Probability: 0.8, Class: "class 3"}}}
	v := &verdict.Verdict{Zones: []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoReject}}
	if r := NewRecord(a, v); r.DefectClass != "class 3" {
		t.Fatalf("record's defect_class = %q, want class 3", r.DefectClass)
	}
}
