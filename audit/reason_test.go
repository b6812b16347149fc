package audit

import (
	"context"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// The trail refuses to record a PASS of a strip the station found
// implausible (a camera fault, no steel texture) without a reason, as it
// refuses an override without one; rejecting it, or passing a strip that
// is only unfamiliar, needs none.
func TestPassingAnImplausibleStripNeedsAReason(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	add := func(path, kinds string) int64 {
		in := sample(path, verdict.Review, 0.1)
		in.CautionKinds, in.Cautions = kinds, "reason of "+kinds
		id, err := s.Add(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	flat := add("flat.png", "implausible")
	both := add("both.png", "unfamiliar,implausible")
	odd := add("odd.png", "unfamiliar")
	rejected := add("rejected.png", "implausible")
	for _, id := range []int64{flat, both} {
		if err := s.Review(ctx, id, verdict.Pass, "ana", ""); err == nil || !strings.Contains(err.Error(), "implausible needs a reason") {
			t.Errorf("inspection %d passed without a reason: %v", id, err)
		}
		if err := s.Review(ctx, id, verdict.Pass, "ana", "ok"); err == nil {
			t.Errorf("inspection %d passed with a reason that says nothing", id)
		}
		if err := s.Review(ctx, id, verdict.Pass, "ana", "lamp replaced, strip checked by hand"); err != nil {
			t.Errorf("inspection %d: %v", id, err)
		}
	}
	if err := s.Review(ctx, odd, verdict.Pass, "ana", ""); err != nil {
		t.Errorf("an unfamiliar strip: %v", err)
	}
	if err := s.Review(ctx, rejected, verdict.Reject, "ana", ""); err != nil {
		t.Errorf("rejecting an implausible strip: %v", err)
	}
	rows, err := s.History(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.OperatorDecision.IsZero() {
			t.Errorf("%s: no decision recorded", r.Path)
		}
	}
}
