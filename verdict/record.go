package verdict

// Record is the outcome for one image as the CLI, the HTTP API and the audit
// trail report it: the seed API's fields (decision, confidence,
// confidence_level, zones, recommendation) plus everything needed to trace
// the decision. A failed image carries only Path, Error, Model and Thresholds.
type Record struct {
	Path            string       `json:"path"`
	Error           string       `json:"error,omitempty"`
	Decision        Optional     `json:"decision,omitzero"` // none for a failed image
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

// ImageInfo describes the analysed image file.
type ImageInfo struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Patch is one scored patch: its place in the image and its probability.
type Patch struct {
	X           int     `json:"x"`
	Y           int     `json:"y"`
	W           int     `json:"w"`
	H           int     `json:"h"`
	Probability float32 `json:"probability"`
	// Familiarity is the patch's familiarity score (about 1 on training
	// strips, higher is less familiar); absent for a model without
	// familiarity statistics.
	Familiarity *float32 `json:"familiarity,omitempty"`
	// Class is a station model's most likely defect class for the patch
	// (the class of its highest cell), when its labels carried classes.
	Class string `json:"class,omitempty"`
}

// Timings of one analysis, in milliseconds. Inference covers tiling,
// preprocessing and the model; Model is the part spent in ONNX Runtime.
// When several images are scored together they share these figures.
type Timings struct {
	DecodeMS    float64 `json:"decode"`
	InferenceMS float64 `json:"inference"`
	ModelMS     float64 `json:"model"`
	TotalMS     float64 `json:"total"`
}

// StripFamiliarity is a strip's familiarity: its score, the model's limit
// and whether the score is above it.
type StripFamiliarity struct {
	Score      float64 `json:"score"`
	Limit      float64 `json:"limit"`
	Unfamiliar bool    `json:"unfamiliar"`
	// Domain is the model's validated-domain check, for a model that has
	// one: a strip outside it is unfamiliar too.
	Domain *DomainFamiliarity `json:"domain,omitempty"`
}

// DomainFamiliarity is a strip's score on its model's validated-domain
// check (how unlike the strips the model was validated on it is), the
// check's limit and whether the strip is outside it.
type DomainFamiliarity struct {
	Score   float64 `json:"score"`
	Limit   float64 `json:"limit"`
	Outside bool    `json:"outside"`
}

// ModelIdentity names the exact model that produced a result.
type ModelIdentity struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// ShortHash is the first 12 hex digits of the model's hash, for display.
func (id ModelIdentity) ShortHash() string {
	if len(id.SHA256) > 12 {
		return id.SHA256[:12]
	}
	return id.SHA256
}
