package inference

import "steelinspect/verdict"

// The verdict vocabulary (decision, zones, thresholds, Decide, cautions,
// the override rule, the record and the model's identity) lives in
// package verdict, free of ONNX Runtime and cgo, so that the packages
// which only record or publish a decision need not link the engine.
// Callers use it from there; this package joins an analysis to it.

// NewRecord joins an analysis and the verdict on it.
func NewRecord(a *Analysis, v *verdict.Verdict) verdict.Record {
	r := verdict.Record{
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
		Patches:         make([]verdict.RecordPatch, len(a.Patches)),
		Image:           &a.Image,
		Model:           a.Model,
		Thresholds:      v.Thresholds,
		Timings:         &a.Timings,
	}
	for i, p := range a.Patches {
		r.Patches[i] = verdict.RecordPatch{Patch: p, Zone: v.Zones[i]}
	}
	r.DefectClass, _ = verdict.LikelyClass(a.Patches, v.Zones)
	return r
}
