package learn

import (
	"strings"
	"testing"
)

// TestManyStripsAreSampledToBoundMemory: past maxStrips, one run keeps an
// even sample chosen by hash (the same on every run) and says so.
func TestManyStripsAreSampledToBoundMemory(t *testing.T) {
	defer func(n int) { maxStrips = n }(maxStrips)
	maxStrips = 10
	var first []string
	for range 2 {
		var rep Report
		xs, err := readAll(Options{Labelled: []string{"../testdata/heldout"}}, &rep)
		if err != nil {
			t.Fatal(err)
		}
		if len(xs) != 10 || rep.Found != 60 || !strings.Contains(rep.Capped, "60 strips found; learning used 10 of them") {
			t.Fatalf("kept %d of %d: %q", len(xs), rep.Found, rep.Capped)
		}
		var paths []string
		defective := 0
		for _, x := range xs {
			paths = append(paths, x.Path)
			if x.Defective {
				defective++
			}
		}
		if first != nil && strings.Join(first, ",") != strings.Join(paths, ",") {
			t.Error("the sample differs between runs")
		}
		first = paths
		if defective == 0 || defective == 10 {
			t.Errorf("the sample holds %d defective strips of 10: not an even sample", defective)
		}
	}
}
