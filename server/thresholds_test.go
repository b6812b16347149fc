package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"steelinspect/inference"
)

// TestDecidesWithTheThresholdsInForce: a request without thresholds is
// decided with the station's thresholds in force, asked for each request
// (a supervisor may change them while the server runs), and /api/model
// says what they are; before, the model's defaults decided every request.
func TestDecidesWithTheThresholdsInForce(t *testing.T) {
	var pass atomic.Value
	pass.Store(0.40)
	var failing atomic.Bool
	ts := start(t, Config{Thresholds: func(context.Context) (inference.Thresholds, error) {
		if failing.Load() {
			return inference.Thresholds{}, errors.New("database is locked")
		}
		return inference.Thresholds{Pass: pass.Load().(float64), Reject: 0.60}, nil
	}})
	strip := stripPNG(t, 0, 1600, 90) // every patch 90/255 = 0.35
	if p := decodePrediction(t, predictForm(t, ts.url, strip)); p.Decision != "PASS" || p.Thresholds.Reject != 0.60 {
		t.Fatalf("at pass 0.40: %s %+v", p.Decision, p.Thresholds)
	}
	pass.Store(0.30)
	if p := decodePrediction(t, predictForm(t, ts.url, strip)); p.Decision != "REVIEW" || p.Thresholds.Pass != 0.30 {
		t.Errorf("after the change to 0.30: %s %+v, want REVIEW", p.Decision, p.Thresholds)
	}
	var info modelInfo
	do(t, http.MethodGet, ts.url+"/api/model", "", nil).json(t, &info)
	if info.ThresholdsInForce != (inference.Thresholds{Pass: 0.30, Reject: 0.60}) {
		t.Errorf("/api/model thresholds_in_force %+v", info.ThresholdsInForce)
	}
	failing.Store(true)
	if r := predictForm(t, ts.url, strip); r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), "thresholds in force") {
		t.Errorf("unreadable thresholds: status %d %s, want 500 and no decision", r.status, r.body)
	}
}
