package verdict

import (
	"math"
	"strings"
	"testing"
)

func TestThresholdsValidate(t *testing.T) {
	cases := []struct {
		th      Thresholds
		wantErr string
	}{
		{Thresholds{0.40, 0.65}, ""},
		{Thresholds{0, 1}, ""},
		{Thresholds{0.7, 0.5}, "out of order"},
		{Thresholds{0.5, 0.5}, "out of order"},
		{Thresholds{-0.1, 0.5}, "outside 0..1"},
		{Thresholds{0.2, 1.5}, "outside 0..1"},
		{Thresholds{math.NaN(), 0.5}, "numbers"},
	}
	for _, c := range cases {
		err := c.th.Validate()
		if c.wantErr == "" && err != nil {
			t.Errorf("%v: unexpected error %v", c.th, err)
		}
		if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%v: error %v, want one containing %q", c.th, err, c.wantErr)
		}
	}
}

func TestDecide(t *testing.T) {
	th := Thresholds{Pass: 0.40, Reject: 0.65}
	cases := []struct {
		name     string
		probs    []float32
		decision Decision
		level    string
		counts   ZoneCounts
	}{
		{"all clean", []float32{0.01, 0.05, 0.1}, Pass, "High", ZoneCounts{3, 0, 0}},
		{"clean but close", []float32{0.30, 0.39}, Pass, "Moderate", ZoneCounts{2, 0, 0}},
		{"exactly pass goes to review", []float32{0.40, 0.1}, Review, "Uncertain", ZoneCounts{1, 1, 0}},
		{"exactly reject stays review", []float32{0.65}, Review, "Uncertain", ZoneCounts{0, 1, 0}},
		{"one bad patch rejects", []float32{0.1, 0.1, 0.7, 0.5}, Reject, "Moderate", ZoneCounts{2, 1, 1}},
		{"certain reject", []float32{0.99, 0.2}, Reject, "High", ZoneCounts{1, 0, 1}},
	}
	for _, c := range cases {
		v, err := Decide(c.probs, th, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if v.Decision != c.decision || v.ConfidenceLevel != c.level || v.Counts != c.counts {
			t.Errorf("%s: got %v/%s/%+v, want %v/%s/%+v", c.name, v.Decision, v.ConfidenceLevel, v.Counts, c.decision, c.level, c.counts)
		}
		if len(v.Zones) != len(c.probs) {
			t.Errorf("%s: %d zones for %d patches", c.name, len(v.Zones), len(c.probs))
		}
	}
}

func TestDecideMetrics(t *testing.T) {
	v, err := Decide([]float32{0.1, 0.3, 0.5, 0.9}, DefaultThresholds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v.Confidence-0.9) > 1e-6 || math.Abs(v.MeanProbability-0.45) > 1e-6 {
		t.Errorf("confidence %v mean %v, want 0.9 and 0.45", v.Confidence, v.MeanProbability)
	}
	if v.MostSuspicious != 3 {
		t.Errorf("most suspicious patch %d, want 3", v.MostSuspicious)
	}
	if v.Percents != (ZonePercents{50, 25, 25}) {
		t.Errorf("percents %+v", v.Percents)
	}
	if v.Recommendation != ActionReject {
		t.Errorf("recommendation %q", v.Recommendation)
	}
	// The same probabilities under looser thresholds: no inference involved.
	v2, _ := Decide([]float32{0.1, 0.3, 0.5, 0.9}, Thresholds{Pass: 0.2, Reject: 0.95}, nil)
	if v2.Decision != Review || v2.Counts != (ZoneCounts{1, 3, 0}) {
		t.Errorf("re-decided %v %+v", v2.Decision, v2.Counts)
	}
}

func TestDecideRejectsBadInput(t *testing.T) {
	for _, probs := range [][]float32{nil, {float32(math.NaN())}, {1.5}, {-0.1}} {
		if _, err := Decide(probs, DefaultThresholds, nil); err == nil {
			t.Errorf("Decide(%v) accepted bad probabilities", probs)
		}
	}
	if _, err := Decide([]float32{0.5}, Thresholds{0.7, 0.5}, nil); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("thresholds out of order not refused: %v", err)
	}
}

func TestDecisionText(t *testing.T) {
	for _, d := range []Decision{Pass, Review, Reject} {
		b, _ := d.MarshalText()
		var back Decision
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("%v round trip gave %v, %v", d, back, err)
		}
	}
	if _, err := ParseDecision("MAYBE"); err == nil {
		t.Error("unknown decision accepted")
	}
}

func BenchmarkDecide(b *testing.B) {
	probs := make([]float32, 12)
	for i := range probs {
		probs[i] = float32(i) / 12
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decide(probs, DefaultThresholds, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEachDecisionHasItsAction(t *testing.T) {
	for d, want := range map[Decision]string{Pass: ActionPass, Review: ActionReview, Reject: ActionReject, Decision(7): ActionReview} {
		if got := d.Action(); got != want {
			t.Errorf("%v.Action() = %q, want %q", d, got, want)
		}
	}
}
