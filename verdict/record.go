package inference

// Record is the outcome for one image as the CLI, the HTTP API and the audit
// trail report it: the seed API's fields (decision, confidence,
// confidence_level, zones, recommendation) plus everything needed to trace
// the decision. A failed image carries only Path, Error, Model and Thresholds.
type Record struct {
	Path            string       `json:"path"`
	Error           string       `json:"error,omitempty"`
	Decision        string       `json:"decision,omitempty"`
	Confidence      float64      `json:"confidence"`
	ConfidenceLevel string       `json:"confidence_level,omitempty"`
	MeanProbability float64      `json:"mean_probability"`
	Zones           ZoneCounts   `json:"zones"`
	ZonePercent     ZonePercents `json:"zone_percent"`
	Recommendation  string       `json:"recommendation,omitempty"`
	// DefectClass is the strip's most likely defect class (LikelyClass),
	// for a model that gives classes and a strip with a patch outside the
	// pass zone.
	DefectClass string `json:"defect_class,omitempty"`
	// Cautions are why the strip went to REVIEW whatever its scores
	// (implausible image, unfamiliar strip); Familiarity is the strip's
	// familiarity to the model, for a model that measures it.
	Cautions    []Caution         `json:"cautions,omitempty"`
	Familiarity *StripFamiliarity `json:"familiarity,omitempty"`
	Patches     []RecordPatch     `json:"patches,omitempty"`
	Image       *ImageInfo        `json:"image,omitempty"`
	Model       ModelIdentity     `json:"model"`
	Thresholds  Thresholds        `json:"thresholds"`
	Timings     *Timings          `json:"timings_ms,omitempty"`
}

// RecordPatch is one patch with the zone it falls in.
type RecordPatch struct {
	Patch
	Zone Zone `json:"zone"`
}

// NewRecord joins an analysis and the verdict on it.
func NewRecord(a *Analysis, v *Verdict) Record {
	r := Record{
		Path:            a.Source,
		Decision:        v.Decision.String(),
		Confidence:      v.Confidence,
		ConfidenceLevel: v.ConfidenceLevel,
		MeanProbability: v.MeanProbability,
		Zones:           v.Counts,
		ZonePercent:     v.Percents,
		Recommendation:  v.Recommendation,
		Cautions:        v.Cautions,
		Familiarity:     a.Familiarity,
		Patches:         make([]RecordPatch, len(a.Patches)),
		Image:           &a.Image,
		Model:           a.Model,
		Thresholds:      v.Thresholds,
		Timings:         &a.Timings,
	}
	for i, p := range a.Patches {
		r.Patches[i] = RecordPatch{Patch: p, Zone: v.Zones[i]}
	}
	r.DefectClass, _ = LikelyClass(a.Patches, v.Zones)
	return r
}

// ErrorRecord reports an image that could not be analysed.
func ErrorRecord(path string, err error, model ModelIdentity, t Thresholds) Record {
	return Record{Path: path, Error: err.Error(), Model: model, Thresholds: t}
}

// LikelyClass is a strip's most likely defect class under its patches'
// zones (one per patch, as a verdict gives them): the class of its most
// probable patch outside the pass zone, and how many of the patches
// outside it share that class. It is "" and 0 when the model gives no
// classes (only a station model learned from masks with classes does) or
// when every patch passes. Records, the window's card and patch table and
// the audit trail all take the class from here.
func LikelyClass(patches []Patch, zones []Zone) (class string, count int) {
	best := -1
	for k, p := range patches {
		if k >= len(zones) || zones[k] == ZoneAutoPass || p.Class == "" {
			continue
		}
		if best < 0 || p.Probability > patches[best].Probability {
			best = k
		}
	}
	if best < 0 {
		return "", 0
	}
	class = patches[best].Class
	for k, p := range patches {
		if k < len(zones) && zones[k] != ZoneAutoPass && p.Class == class {
			count++
		}
	}
	return class, count
}
