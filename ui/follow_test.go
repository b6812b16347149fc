package ui

import (
	"context"
	"strings"
	"testing"

	"steelinspect/station"
	"steelinspect/verdict"
)

// TestWindowFollowsThresholdsRecordedElsewhere: a supervisor's change
// recorded by another process (steelinspect settings set) becomes the
// running window's pair, said in the status bar; before, the window
// decided with its own pair until it was started again.
func TestWindowFollowsThresholdsRecordedElsewhere(t *testing.T) {
	h, store := newStation(t)
	h.waitIdle()
	ctx := context.Background()
	old, err := station.ThresholdsInForce(ctx, store, verdict.DefaultThresholds)
	if err != nil || !old.Recorded {
		t.Fatalf("the window records its pair at first start: %+v %v", old, err)
	}
	want := verdict.Thresholds{Pass: 0.30, Reject: 0.55}
	if err := station.RecordThresholds(ctx, store, "sue (command line)", old, want); err != nil {
		t.Fatal(err)
	}
	h.ins.checkThresholdsInForce()
	h.waitIdle()
	if h.ins.settings.thresholds != want || h.ins.work.currentThresholds() != want {
		t.Fatalf("window at %+v (worker %+v), want the recorded %+v", h.ins.settings.thresholds, h.ins.work.currentThresholds(), want)
	}
	if !strings.Contains(h.ins.w.status.Text, "changed by sue (command line)") {
		t.Errorf("status %q", h.ins.w.status.Text)
	}
	changes, _ := store.SettingChanges(ctx)
	if n := len(changes); n != 4 { // the window's first pair and sue's two, nothing re-recorded
		t.Errorf("%d setting changes, want 4: %+v", n, changes)
	}
}
