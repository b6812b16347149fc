package inference

import "steelinspect/verdict"

// The verdict vocabulary lives in package verdict, free of ONNX Runtime and
// cgo, so that the packages which only record or publish a decision need
// not link the engine. These names keep it reachable from here for the
// packages that run the engine too.
type (
	Thresholds        = verdict.Thresholds
	Decision          = verdict.Decision
	Zone              = verdict.Zone
	ZoneCounts        = verdict.ZoneCounts
	ZonePercents      = verdict.ZonePercents
	Caution           = verdict.Caution
	CautionKind       = verdict.CautionKind
	Verdict           = verdict.Verdict
	Record            = verdict.Record
	RecordPatch       = verdict.RecordPatch
	ImageInfo         = verdict.ImageInfo
	Patch             = verdict.Patch
	Timings           = verdict.Timings
	StripFamiliarity  = verdict.StripFamiliarity
	DomainFamiliarity = verdict.DomainFamiliarity
	ModelIdentity     = verdict.ModelIdentity
)

// Decisions, zones, caution kinds, recommendation texts and the station's
// threshold ranges: see package verdict.
const (
	Pass   = verdict.Pass
	Review = verdict.Review
	Reject = verdict.Reject

	ZoneAutoPass     = verdict.ZoneAutoPass
	ZoneManualReview = verdict.ZoneManualReview
	ZoneAutoReject   = verdict.ZoneAutoReject

	CautionImplausible = verdict.CautionImplausible
	CautionUnfamiliar  = verdict.CautionUnfamiliar

	ActionPass   = verdict.ActionPass
	ActionReview = verdict.ActionReview
	ActionReject = verdict.ActionReject

	StationPassMin   = verdict.StationPassMin
	StationPassMax   = verdict.StationPassMax
	StationRejectMin = verdict.StationRejectMin
	StationRejectMax = verdict.StationRejectMax
	ThresholdStep    = verdict.ThresholdStep
)

// DefaultThresholds are the seed system's values (verdict.DefaultThresholds).
var DefaultThresholds = verdict.DefaultThresholds

// Decide is verdict.Decide: patch probabilities and cautions to a verdict.
func Decide(probabilities []float32, t Thresholds, cautions []Caution) (Verdict, error) {
	return verdict.Decide(probabilities, t, cautions)
}

// ZoneOf is verdict.ZoneOf.
func ZoneOf(p float64, t Thresholds) Zone { return verdict.ZoneOf(p, t) }

// ParseDecision is verdict.ParseDecision.
func ParseDecision(s string) (Decision, error) { return verdict.ParseDecision(s) }

// Final is verdict.Final, the override rule.
func Final(auto Decision, operator verdict.Optional) Decision {
	return verdict.Final(auto, operator)
}

// ReasonRequired is verdict.ReasonRequired.
func ReasonRequired(auto, decision Decision, cautions []CautionKind) bool {
	return verdict.ReasonRequired(auto, decision, cautions)
}

// CautionReasons is verdict.CautionReasons.
func CautionReasons(cs []Caution) string { return verdict.CautionReasons(cs) }

// CautionKinds is verdict.CautionKinds.
func CautionKinds(cs []Caution) []CautionKind { return verdict.CautionKinds(cs) }

// ParseCautionKinds is verdict.ParseCautionKinds.
func ParseCautionKinds(s string) []CautionKind { return verdict.ParseCautionKinds(s) }

// ParseThreshold is verdict.ParseThreshold.
func ParseThreshold(raw string) (float64, error) { return verdict.ParseThreshold(raw) }

// LikelyClass is verdict.LikelyClass.
func LikelyClass(patches []Patch, zones []Zone) (class string, count int) {
	return verdict.LikelyClass(patches, zones)
}

// ErrorRecord is verdict.ErrorRecord.
func ErrorRecord(path string, err error, model ModelIdentity, t Thresholds) Record {
	return verdict.ErrorRecord(path, err, model, t)
}

// NewRecord joins an analysis and the verdict on it.
func NewRecord(a *Analysis, v *Verdict) Record {
	r := Record{
		Path:            a.Source,
		Decision:        verdict.Some(v.Decision),
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
