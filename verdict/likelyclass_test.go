package verdict

import "testing"

func TestLikelyClassIsTheMostProbableFlaggedPatchs(t *testing.T) {
	patches := []Patch{
		{Probability: 0.95, Class: "class 1"}, // passes at these zones: not counted
		{Probability: 0.70, Class: "class 3"},
		{Probability: 0.90, Class: "class 4"},
		{Probability: 0.60, Class: "class 4"},
		{Probability: 0.55, Class: "class 3"},
	}
	zones := []Zone{ZoneAutoPass, ZoneAutoReject, ZoneAutoReject, ZoneManualReview, ZoneManualReview}
	class, n := LikelyClass(patches, zones)
	if class != "class 4" || n != 2 {
		t.Fatalf("LikelyClass = %q, %d; want class 4 in 2 patches", class, n)
	}
	if class, n := LikelyClass(patches, []Zone{0, 0, 0, 0, 0}); class != "" || n != 0 {
		t.Errorf("every patch passing gives %q, %d; want no class", class, n)
	}
	if class, _ := LikelyClass([]Patch{{Probability: 0.9}}, []Zone{ZoneAutoReject}); class != "" {
		t.Errorf("a model without classes gives class %q", class)
	}
	if class, _ := LikelyClass(patches, zones[:1]); class != "" {
		t.Errorf("zones shorter than the patches gave %q; want the patches without a zone left out", class)
	}
}
