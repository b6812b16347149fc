package inference

import (
	"fmt"
	"math"

	ort "github.com/yalue/onnxruntime_go"

	"steelinspect/verdict"
)

// The validated domain: which steel a model's figures hold for. A model is
// measured on held-out strips of the kind it was trained on; on steel of
// another kind its probabilities can be confidently wrong (a model that
// has only seen synthetic strips reads the grain of real steel as
// defects). Familiarity in the model's own feature space does not see this
// when the model has learned to ignore exactly what sets the other steel
// apart, so a model may carry a second, independent check: a linear
// discriminator on image-level statistics of a general-purpose backbone
// (ImageNet features, mean and spread over the strip), fitted to tell the
// strips the model was validated on from real steel of other lines. Above
// its limit the strip is not the steel the model was validated on and goes
// to a person, with the reason in plain words.

// DomainCheck is the discriminator, kept in the familiarity file.
type DomainCheck struct {
	// ValidatedOn names the strips the model's figures hold for, and
	// Unlike the steel the check was fitted to tell apart from them (for
	// people reading the file and for the reason shown).
	ValidatedOn string `json:"validated_on"`
	Unlike      string `json:"unlike"`
	Dim         int    `json:"dim"`
	// A vector f scores Σ Weights[d]·(f[d]−Mean[d])/Scale[d] + Bias; above
	// Limit the strip is outside the validated domain.
	Mean    []float64 `json:"mean"`
	Scale   []float64 `json:"scale"`
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
	Limit   float64   `json:"limit"`
}

// validate checks the discriminator's shape.
func (d *DomainCheck) validate() error {
	switch {
	case d.Dim < 1 || d.Dim > 1<<16:
		return fmt.Errorf("domain check: dim %d is out of range", d.Dim)
	case len(d.Mean) != d.Dim || len(d.Scale) != d.Dim || len(d.Weights) != d.Dim:
		return fmt.Errorf("domain check: mean, scale and weights need %d values each", d.Dim)
	case d.ValidatedOn == "":
		return fmt.Errorf("domain check: validated_on must say what the model was validated on")
	case math.IsNaN(d.Limit) || math.IsInf(d.Limit, 0) || math.IsNaN(d.Bias) || math.IsInf(d.Bias, 0):
		return fmt.Errorf("domain check: bias and limit must be finite")
	}
	for i, s := range d.Scale {
		if !(s > 0) || math.IsNaN(d.Mean[i]) || math.IsNaN(d.Weights[i]) {
			return fmt.Errorf("domain check: value %d is not usable (scale must be positive, mean and weight numbers)", i)
		}
	}
	return nil
}

// Score is the discriminator's score of one image-level feature vector
// (Dim values); higher is further from the validated strips.
func (d *DomainCheck) Score(f []float32) float64 {
	s := d.Bias
	for i, w := range d.Weights {
		s += w * (float64(f[i]) - d.Mean[i]) / d.Scale[i]
	}
	return s
}

// domainScore is a strip's domain score from its bands' scores, each
// weighted by its width (one band for a strip one patch high).
type domainScore struct{ sum, weight float64 }

func (s *domainScore) add(score float64, width int) {
	s.sum += score * float64(width)
	s.weight += float64(width)
}

func (s *domainScore) value() (float64, bool) {
	if s.weight == 0 {
		return 0, false
	}
	return s.sum / s.weight, true
}

// addDomain adds a strip's validated-domain score to its familiarity: a
// strip outside the domain is unfamiliar.
func addDomain(f *verdict.StripFamiliarity, s domainScore, d *DomainCheck) {
	score, ok := s.value()
	if !ok {
		return
	}
	f.Domain = &verdict.DomainFamiliarity{Score: round3(score), Limit: d.Limit, Outside: score > d.Limit}
	f.Unfamiliar = f.Unfamiliar || f.Domain.Outside
}

// outsideDomainReason words a strip outside the validated domain for the
// person it goes to.
func outsideDomainReason(f *verdict.StripFamiliarity, validatedOn string) string {
	return fmt.Sprintf("unfamiliar strip: not the steel the model was validated on (%s); "+
		"its verdict would be a guess (domain score %.2f, limit %.2f). Teach or learn this line's steel",
		validatedOn, f.Domain.Score, f.Domain.Limit)
}

// checkDomainOutput finds the model's domain output, [1,dim] float32, for
// a domain check of dim values.
func checkDomainOutput(m *Manifest, outs []ort.InputOutputInfo, dim int) (int, error) {
	name := m.Output.Domain
	if name == "" {
		return 0, fmt.Errorf("its familiarity file has a domain check but output.domain names no output for it")
	}
	o, err := floatOutput(outs, name, "the domain check")
	if err != nil {
		return 0, err
	}
	if len(o.Dimensions) != 2 || o.Dimensions[1] != int64(dim) {
		return 0, fmt.Errorf("output %q has shape %v, the domain check needs [1,%d]", name, o.Dimensions, dim)
	}
	return dim, nil
}
