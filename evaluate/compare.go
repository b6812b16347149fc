package evaluate

import (
	"fmt"
	"math"

	"steelinspect/verdict"
)

// ZoneChange is one patch whose zone differs between two models.
type ZoneChange struct {
	ImageID   string       `json:"image"`
	Patch     int          `json:"patch"`
	RefProb   float32      `json:"reference_probability"`
	Prob      float32      `json:"probability"`
	RefZone   verdict.Zone `json:"reference_zone"`
	Zone      verdict.Zone `json:"zone"`
	Defective bool         `json:"defective"`
}

// DecisionChange is one strip whose automatic decision differs.
type DecisionChange struct {
	ImageID   string           `json:"image"`
	Defective bool             `json:"defective"`
	Reference verdict.Decision `json:"reference"`
	Decision  verdict.Decision `json:"decision"`
}

// Comparison sets a model's results beside a reference model's on the same
// strips and thresholds: what a faster variant changes.
type Comparison struct {
	Reference        verdict.ModelIdentity `json:"reference"`
	Strips           int                   `json:"strips"`
	Patches          int                   `json:"patches"`
	DecisionChanges  []DecisionChange      `json:"decision_changes"`
	ZoneChanges      []ZoneChange          `json:"zone_changes"`
	MaxAbsDifference float64               `json:"max_abs_difference"`
	MeanAbsDiff      float64               `json:"mean_abs_difference"`
}

// Compare sets r beside ref (the same images, scored by a reference model).
func Compare(ref, r *Report) (*Comparison, error) {
	c := &Comparison{Reference: ref.Model}
	refByID := map[string]*StripResult{}
	for i := range ref.Strips {
		refByID[ref.Strips[i].ImageID] = &ref.Strips[i]
	}
	sum := 0.0
	for _, s := range r.Strips {
		rs := refByID[s.ImageID]
		if s.Error != "" || rs == nil || rs.Error != "" {
			continue
		}
		if len(rs.Probabilities) != len(s.Probabilities) {
			return nil, fmt.Errorf("%s: %d patches, the reference has %d (different tiling)", s.ImageID, len(s.Probabilities), len(rs.Probabilities))
		}
		c.Strips++
		d, rd := s.Decision(r.Thresholds), rs.Decision(r.Thresholds)
		if d != rd {
			c.DecisionChanges = append(c.DecisionChanges, DecisionChange{s.ImageID, s.Defective, rd, d})
		}
		for i, p := range s.Probabilities {
			rp := rs.Probabilities[i]
			diff := math.Abs(float64(p - rp))
			sum += diff
			c.MaxAbsDifference = max(c.MaxAbsDifference, diff)
			c.Patches++
			z, rz := verdict.ZoneOf(float64(p), r.Thresholds), verdict.ZoneOf(float64(rp), r.Thresholds)
			if z != rz {
				c.ZoneChanges = append(c.ZoneChanges, ZoneChange{s.ImageID, i, rp, p, rz, z, s.PatchTruth[i]})
			}
		}
	}
	if c.Patches > 0 {
		c.MeanAbsDiff = sum / float64(c.Patches)
	}
	return c, nil
}
