package mqttout

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/internal/testbroker"
	"steelinspect/verdict"
)

// TestResultCarriesTheDefectClass (issue 28): a strip recorded with its
// most likely defect class is published with it in its result message;
// the class's own trail entry is delivered without a message of its own,
// so the entries after it still go out.
func TestResultCarriesTheDefectClass(t *testing.T) {
	b := testbroker.Start(t)
	store := openStore(t)
	sub := testbroker.Subscribe(t, b, "plc-class", "steelinspect/#")
	if _, err := store.Add(context.Background(), audit.Inspection{Source: "watch", Path: "a.jpg", SHA256: strings.Repeat("a", 64),
		Width: 1600, Height: 256, Bytes: 1000, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: strings.Repeat("b", 64),
		PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.9, MeanProbability: 0.5, AutoDecision: verdict.Reject,
		DefectClass: "class 3", DefectPatches: 2}); err != nil {
		t.Fatal(err)
	}
	record(t, store, "b.jpg", verdict.Pass)
	p, err := New(Config{URL: b.URL(), Username: testbroker.User, Password: testbroker.Password, Station: "line3"}, store, testState)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 results", func() bool { return len(unique(results(t, sub))) >= 2 })
	var r Result
	if err := json.Unmarshal(sub.Payloads("/result")[0], &r); err != nil {
		t.Fatal(err)
	}
	if r.Path != "a.jpg" || r.DefectClass != "class 3" || r.DefectPatches != 2 {
		t.Errorf("result message of the classed strip: %s", sub.Payloads("/result")[0])
	}
	if n := len(sub.Payloads("/class")); n != 0 {
		t.Errorf("%d messages for the class entry; its class is in the result", n)
	}
}
