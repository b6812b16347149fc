package verdict

import (
	"slices"
	"testing"
)

// An operator needs a reason to override an automatic decision, and to
// pass a strip the station found implausible; not to decide any other
// strip sent to review.
func TestReasonRequired(t *testing.T) {
	implausible := []CautionKind{CautionImplausible}
	unfamiliar := []CautionKind{CautionUnfamiliar}
	both := []CautionKind{CautionUnfamiliar, CautionImplausible}
	for _, c := range []struct {
		auto, decision Decision
		cautions       []CautionKind
		want           bool
	}{
		{Pass, Pass, nil, false},
		{Pass, Reject, nil, true},
		{Reject, Pass, nil, true},
		{Reject, Reject, nil, false},
		{Review, Pass, nil, false},
		{Review, Reject, nil, false},
		{Review, Pass, unfamiliar, false},
		{Review, Pass, implausible, true},
		{Review, Pass, both, true},
		{Review, Reject, implausible, false},
	} {
		if got := ReasonRequired(c.auto, c.decision, c.cautions); got != c.want {
			t.Errorf("automatic %s, operator %s, cautions %v: reason required %v, want %v", c.auto, c.decision, c.cautions, got, c.want)
		}
	}
	if got := ParseCautionKinds("unfamiliar, implausible,"); !slices.Equal(got, both) {
		t.Errorf("ParseCautionKinds: %v", got)
	}
	if got := ParseCautionKinds(""); got != nil {
		t.Errorf("ParseCautionKinds(\"\"): %v", got)
	}
	if got := CautionKinds([]Caution{{Kind: CautionUnfamiliar}, {Kind: CautionImplausible}}); !slices.Equal(got, both) {
		t.Errorf("CautionKinds: %v", got)
	}
}
