package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"
)

// TestDecidesWithTheThresholdsInForce: a request without thresholds is
// decided with the station's thresholds in force, asked for each request
// (a supervisor may change them while the server runs), and /api/model
// says what they are; before, the model's defaults decided every request.
func TestDecidesWithTheThresholdsInForce(t *testing.T) {
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e := openEngine(t)
	st := station.FromParts(store, nil, e)
	ctx := context.Background()
	if err := st.RecordThresholds(ctx, "sup", verdict.Thresholds{Pass: 0.40, Reject: 0.60}); err != nil {
		t.Fatal(err)
	}
	ts := startOn(t, e, Config{Station: st})
	strip := stripPNG(t, 0, 1600, 90) // every patch 90/255 = 0.35
	if p := decodePrediction(t, predictForm(t, ts.url, strip)); !p.Decision.Is(verdict.Pass) || p.Thresholds.Reject != 0.60 {
		t.Fatalf("at pass 0.40: %s %+v", p.Decision, p.Thresholds)
	}
	if err := st.RecordThresholds(ctx, "sup", verdict.Thresholds{Pass: 0.30, Reject: 0.60}); err != nil {
		t.Fatal(err)
	}
	if p := decodePrediction(t, predictForm(t, ts.url, strip)); !p.Decision.Is(verdict.Review) || p.Thresholds.Pass != 0.30 {
		t.Errorf("after the change to 0.30: %s %+v, want REVIEW", p.Decision, p.Thresholds)
	}
	var info modelInfo
	do(t, http.MethodGet, ts.url+"/api/model", "", nil).json(t, &info)
	if info.ThresholdsInForce != (verdict.Thresholds{Pass: 0.30, Reject: 0.60}) {
		t.Errorf("/api/model thresholds_in_force %+v", info.ThresholdsInForce)
	}
	store.Close() // the trail can no longer be read
	if r := predictForm(t, ts.url, strip); r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), "thresholds in force") {
		t.Errorf("unreadable thresholds: status %d %s, want 500 and no decision", r.status, r.body)
	}
}
