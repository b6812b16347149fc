package inference

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// twoValueCheck is a domain check on two features: the first pulls a
// strip out of the domain, the second (scaled by 2) into it.
func twoValueCheck() *DomainCheck {
	return &DomainCheck{ValidatedOn: "synthetic strips", Unlike: "real steel", Dim: 2,
		Mean: []float64{1, 0}, Scale: []float64{1, 2}, Weights: []float64{3, -1}, Bias: -0.5, Limit: 1}
}

func TestDomainCheckScoresStandardisedFeatures(t *testing.T) {
	d := twoValueCheck()
	// 3·(2−1)/1 − 1·(4−0)/2 − 0.5 = 0.5
	if got := d.Score([]float32{2, 4}); math.Abs(got-0.5) > 1e-9 {
		t.Fatalf("score %v, want 0.5", got)
	}
	var s domainScore
	if _, ok := s.value(); ok {
		t.Fatal("a strip with no band has no domain score")
	}
	s.add(2, 300) // a band 300 wide at 2 and one 100 wide at −2: (600−200)/400 = 1
	s.add(-2, 100)
	if v, _ := s.value(); math.Abs(v-1) > 1e-9 {
		t.Fatalf("width-weighted score %v, want 1", v)
	}
}

func TestOutsideTheDomainIsUnfamiliarWithItsOwnReason(t *testing.T) {
	d := twoValueCheck()
	inside := &verdict.StripFamiliarity{Score: 0.8, Limit: 2}
	var s domainScore
	s.add(0.2, 1600)
	addDomain(inside, s, d)
	if inside.Unfamiliar || inside.Domain == nil || inside.Domain.Outside {
		t.Fatalf("a strip at 0.2 under the limit 1 must stay familiar: %+v %+v", inside, inside.Domain)
	}
	outside := &verdict.StripFamiliarity{Score: 0.8, Limit: 2}
	s = domainScore{}
	s.add(3.25, 1600)
	addDomain(outside, s, d)
	if !outside.Unfamiliar || !outside.Domain.Outside {
		t.Fatalf("a strip at 3.25 over the limit 1 must be unfamiliar: %+v %+v", outside, outside.Domain)
	}
	why := unfamiliarReason(outside, d)
	for _, want := range []string{"not the steel the model was validated on", "synthetic strips", "3.25", "limit 1.00", "Teach or learn"} {
		if !strings.Contains(why, want) {
			t.Errorf("reason %q lacks %q", why, want)
		}
	}
	// unlike the training strips but inside the domain: the old reason
	far := &verdict.StripFamiliarity{Score: 3, Limit: 2, Unfamiliar: true, Domain: &verdict.DomainFamiliarity{Score: 0, Limit: 1}}
	if why := unfamiliarReason(far, d); !strings.Contains(why, "not trained on strips like this") {
		t.Errorf("reason %q should say the strip is unlike the training strips", why)
	}
}

func TestFamiliarityFileRefusesABrokenDomainCheck(t *testing.T) {
	stats, err := FitFamiliarity(gaussianFeatures(200, 16, 0, 3), 4)
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]func(d *DomainCheck){
		"short weights":     func(d *DomainCheck) { d.Weights = d.Weights[:1] },
		"zero scale":        func(d *DomainCheck) { d.Scale[1] = 0 },
		"no validated_on":   func(d *DomainCheck) { d.ValidatedOn = "" },
		"no scale":          func(d *DomainCheck) { d.Scale = nil },
		"dimension too big": func(d *DomainCheck) { d.Dim = 1 << 20 },
	}
	for name, breakIt := range broken {
		d := twoValueCheck()
		breakIt(d)
		stats.Domain = d
		data, err := json.Marshal(stats)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseFamiliarityStats(data); err == nil || !strings.Contains(err.Error(), "domain check") {
			t.Errorf("%s: want a domain check error, got %v", name, err)
		}
	}
	stats.Domain = twoValueCheck()
	data, _ := stats.Marshal()
	back, err := ParseFamiliarityStats(data)
	if err != nil || back.Domain == nil || back.Domain.Limit != 1 {
		t.Fatalf("a sound domain check must survive the file: %v %+v", err, back)
	}
}
