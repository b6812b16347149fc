package inference

import (
	"encoding/json"
	"os"
	"testing"
)

// TestPassesNothing: a model whose held-out confusion at the pass threshold
// has no true negative (no defect-free patch below it) auto-passes nothing;
// one with any, or without the figures, is not said to.
func TestPassesNothing(t *testing.T) {
	raw, err := os.ReadFile("../testdata/models/tiny-nchw.manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		metrics string
		want    bool
	}{
		{"no clean patch below pass", `{"confusion_at_pass": {"fn": 0, "fp": 578, "tn": 0, "tp": 142}}`, true},
		{"some clean patches below pass", `{"confusion_at_pass": {"fn": 0, "fp": 40, "tn": 538, "tp": 142}}`, false},
		{"no clean patch at all", `{"confusion_at_pass": {"fn": 0, "fp": 0, "tn": 0, "tp": 142}}`, false},
		{"no confusion figures", `{"roc_auc": 0.9}`, false},
		{"figures of another shape", `{"confusion_at_pass": [0, 578]}`, false},
		{"no metrics", `null`, false},
	} {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		prov, _ := doc["provenance"].(map[string]any)
		if prov == nil {
			prov = map[string]any{}
			doc["provenance"] = prov
		}
		var metrics any
		if err := json.Unmarshal([]byte(c.metrics), &metrics); err != nil {
			t.Fatal(err)
		}
		prov["metrics"] = metrics
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseManifest(data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := m.PassesNothing(); got != c.want {
			t.Errorf("%s: PassesNothing() = %v, want %v", c.name, got, c.want)
		}
	}
}
