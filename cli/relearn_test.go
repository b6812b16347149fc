package cli

import (
	"bytes"
	"strings"
	"testing"

	"steelinspect/central"
	"steelinspect/learn"
)

// TestReportSuggestsLearningAgain: the plant report names each station's
// shift whose signs of drift pass the limits, in the words the station's
// own drift command uses, and says so when none does.
func TestReportSuggestsLearningAgain(t *testing.T) {
	rows := []central.ReportRow{
		// 100 strips: 12 unfamiliar, 20 sent to review, 6 of 80 automatic decisions overridden
		{Station: "st-3", Shift: "late", Total: 100, AutoReview: 20, Overridden: 6, Unfamiliar: 12},
		{Station: "st-4", Shift: "late", Total: 100, AutoReview: 10, Overridden: 1, Unfamiliar: 2},
	}
	var out bytes.Buffer
	writeRelearn(&out, rows, learn.DefaultDriftLimits)
	got := out.String()
	if !strings.Contains(got, "st-3, late shift: re-learn suggested: 12 % of the strips unfamiliar, 8 % of automatic decisions overridden") {
		t.Errorf("the drifting station is not named with its signs:\n%s", got)
	}
	if strings.Contains(got, "st-4") {
		t.Errorf("a station within its limits is named:\n%s", got)
	}
	out.Reset()
	writeRelearn(&out, rows[1:], learn.DefaultDriftLimits)
	if !strings.Contains(out.String(), "No station past its signs of drift") {
		t.Errorf("no drift reads %q", out.String())
	}
	out.Reset()
	writeRelearn(&out, rows[1:], learn.DriftLimits{Review: 0.05})
	if !strings.Contains(out.String(), "st-4, late shift: re-learn suggested: 10 % of the strips sent to review") {
		t.Errorf("a lower review limit, given on the command line, reads %q", out.String())
	}
}
