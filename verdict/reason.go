package verdict

import (
	"slices"
	"strings"
)

// ReasonRequired says whether an operator's decision on a strip must come
// with a written reason: one that overrides the automatic PASS or REJECT,
// and a PASS of a strip the station found implausible (a camera or feed
// fault, a frame with no steel texture), which a person passes only by
// saying why. cautions are the kinds of the strip's cautions. The one rule
// for the window and the audit trail.
func ReasonRequired(auto, decision Decision, cautions []CautionKind) bool {
	if auto != Review {
		return auto != decision
	}
	return decision == Pass && slices.Contains(cautions, CautionImplausible)
}

// CautionKinds lists the kinds of the cautions, in order.
func CautionKinds(cs []Caution) []CautionKind {
	var kinds []CautionKind
	for _, c := range cs {
		kinds = append(kinds, c.Kind)
	}
	return kinds
}

// ParseCautionKinds reads caution kinds written comma-separated, as the
// audit trail keeps them ("" for none).
func ParseCautionKinds(s string) []CautionKind {
	var kinds []CautionKind
	for k := range strings.SplitSeq(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, CautionKind(k))
		}
	}
	return kinds
}
