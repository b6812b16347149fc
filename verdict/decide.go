package verdict

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Thresholds are the two cut points of the traffic light. A strip whose
// highest patch probability is below Pass is approved automatically; above
// Reject it is rejected automatically; anything between goes to a person.
type Thresholds struct {
	Pass   float64 `json:"pass"`
	Reject float64 `json:"reject"`
}

// DefaultThresholds are the seed system's values.
var DefaultThresholds = Thresholds{Pass: 0.40, Reject: 0.65}

// Validate reports whether 0 <= Pass < Reject <= 1.
func (t Thresholds) Validate() error {
	switch {
	case math.IsNaN(t.Pass) || math.IsNaN(t.Reject):
		return errors.New("thresholds must be numbers")
	case t.Pass < 0 || t.Pass > 1:
		return fmt.Errorf("pass threshold %.2f is outside 0..1", t.Pass)
	case t.Reject < 0 || t.Reject > 1:
		return fmt.Errorf("reject threshold %.2f is outside 0..1", t.Reject)
	case t.Pass >= t.Reject:
		return fmt.Errorf("thresholds out of order: pass %.2f must be below reject %.2f", t.Pass, t.Reject)
	}
	return nil
}

// The thresholds a station may be set to (the design's sliders):
// Auto-Pass 0.20–0.50 and Auto-Reject 0.50–0.80, in steps of 0.01. A
// model's own defaults may lie outside them; a setting may not.
const (
	StationPassMin, StationPassMax     = 0.20, 0.50
	StationRejectMin, StationRejectMax = 0.50, 0.80
	ThresholdStep                      = 0.01
)

// FitStation clamps both thresholds into the station's ranges, on the
// 0.01 step, with pass below reject.
func (t Thresholds) FitStation() Thresholds {
	round := func(v float64) float64 { return math.Round(v*100) / 100 } // the 0.01 step, without float noise
	t.Pass = round(math.Max(StationPassMin, math.Min(StationPassMax, t.Pass)))
	t.Reject = round(math.Max(StationRejectMin, math.Min(StationRejectMax, t.Reject)))
	if t.Pass >= t.Reject {
		t.Pass = round(t.Reject - ThresholdStep)
	}
	return t
}

// ValidateStation is Validate with the station's ranges: the pair a
// supervisor may set.
func (t Thresholds) ValidateStation() error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.Pass < StationPassMin || t.Pass > StationPassMax {
		return fmt.Errorf("pass threshold %.2f is outside the station's range %.2f–%.2f", t.Pass, StationPassMin, StationPassMax)
	}
	if t.Reject < StationRejectMin || t.Reject > StationRejectMax {
		return fmt.Errorf("reject threshold %.2f is outside the station's range %.2f–%.2f", t.Reject, StationRejectMin, StationRejectMax)
	}
	return nil
}

// Zone is the traffic-light colour of one patch: the decision the strip would
// get if that patch were its most suspicious one.
type Zone int

// Patch zones, named as in the seed's API.
const (
	ZoneAutoPass Zone = iota
	ZoneManualReview
	ZoneAutoReject
)

var zoneNames = [...]string{"auto_pass", "manual_review", "auto_reject"}

func (z Zone) String() string {
	if z < 0 || int(z) >= len(zoneNames) {
		return fmt.Sprintf("Zone(%d)", int(z))
	}
	return zoneNames[z]
}

// MarshalText writes the zone as auto_pass, manual_review or auto_reject.
func (z Zone) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

// UnmarshalText reads auto_pass, manual_review or auto_reject.
func (z *Zone) UnmarshalText(b []byte) error {
	for i, n := range zoneNames {
		if n == string(b) {
			*z = Zone(i)
			return nil
		}
	}
	return fmt.Errorf("unknown zone %q", b)
}

// ZoneOf places one probability in its zone: below pass is auto_pass, above
// reject is auto_reject, the closed interval between is manual_review.
func ZoneOf(p float64, t Thresholds) Zone {
	switch {
	case p < t.Pass:
		return ZoneAutoPass
	case p > t.Reject:
		return ZoneAutoReject
	default:
		return ZoneManualReview
	}
}

// ZoneCounts counts patches per zone, with the seed API's field names.
type ZoneCounts struct {
	AutoPass     int `json:"auto_pass"`
	ManualReview int `json:"manual_review"`
	AutoReject   int `json:"auto_reject"`
}

// ZonePercents are the same counts as percentages of all patches.
type ZonePercents struct {
	AutoPass     float64 `json:"auto_pass"`
	ManualReview float64 `json:"manual_review"`
	AutoReject   float64 `json:"auto_reject"`
}

// Caution is a reason a strip goes to a person whatever its patch
// probabilities: the image is implausible (a camera or feed fault) or the
// strip is unlike anything the model was trained on.
type Caution struct {
	Kind   CautionKind `json:"kind"`
	Reason string      `json:"reason"`
}

// CautionKind says what kind of caution it is.
type CautionKind string

// The kinds of caution.
const (
	CautionImplausible CautionKind = "implausible"
	CautionUnfamiliar  CautionKind = "unfamiliar"
)

// CautionReasons joins the cautions' reasons into one line ("" for none).
func CautionReasons(cs []Caution) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Reason)
	}
	return b.String()
}

// Verdict is everything Decide derives from the probabilities.
type Verdict struct {
	Decision        Decision     `json:"decision"`
	Confidence      float64      `json:"confidence"`
	MeanProbability float64      `json:"mean_probability"`
	ConfidenceLevel string       `json:"confidence_level"`
	Recommendation  string       `json:"recommendation"`
	Zones           []Zone       `json:"-"`
	Counts          ZoneCounts   `json:"zones"`
	Percents        ZonePercents `json:"zone_percent"`
	Thresholds      Thresholds   `json:"thresholds"`
	MostSuspicious  int          `json:"most_suspicious_patch"`
	// Cautions, when there are any, sent the strip to REVIEW whatever its
	// probabilities; the patch zones still follow the probabilities.
	Cautions []Caution `json:"cautions,omitempty"`
}

// Recommendation texts, one per decision.
const (
	ActionPass   = "Auto-approve: no patch reaches the pass threshold"
	ActionReview = "Manual inspection required"
	ActionReject = "Auto-reject: defect detected, take the strip off the line"
)

// Action is the advice of an automatic decision: ActionPass, ActionReview
// or ActionReject (ActionReview for a value that is no decision).
func (d Decision) Action() string {
	switch d {
	case Pass:
		return ActionPass
	case Reject:
		return ActionReject
	}
	return ActionReview
}

// Decide maps patch probabilities to the strip decision. It is pure and
// cheap (no inference), so moving a threshold slider just calls it again.
//
// The strip's confidence is its highest patch probability: PASS when that is
// below t.Pass, REJECT when above t.Reject, REVIEW otherwise. A strip with
// any caution (an implausible image, an unfamiliar strip) is REVIEW
// whatever its probabilities, with the cautions' reasons as its
// recommendation: never an automatic decision on a strip the model cannot
// judge.
func Decide(probabilities []float32, t Thresholds, cautions []Caution) (Verdict, error) {
	if err := t.Validate(); err != nil {
		return Verdict{}, err
	}
	if len(probabilities) == 0 {
		return Verdict{}, errors.New("no patch probabilities to decide on")
	}
	v := Verdict{Thresholds: t, Zones: make([]Zone, len(probabilities))}
	sum := 0.0
	for i, p32 := range probabilities {
		p := float64(p32)
		if math.IsNaN(p) || p < 0 || p > 1 {
			return Verdict{}, fmt.Errorf("patch %d has probability %v, outside 0..1", i, p32)
		}
		sum += p
		if i == 0 || p > v.Confidence {
			v.Confidence, v.MostSuspicious = p, i
		}
		z := ZoneOf(p, t)
		v.Zones[i] = z
		switch z {
		case ZoneAutoPass:
			v.Counts.AutoPass++
		case ZoneManualReview:
			v.Counts.ManualReview++
		default:
			v.Counts.AutoReject++
		}
	}
	n := float64(len(probabilities))
	v.MeanProbability = sum / n
	v.Percents = ZonePercents{
		AutoPass:     100 * float64(v.Counts.AutoPass) / n,
		ManualReview: 100 * float64(v.Counts.ManualReview) / n,
		AutoReject:   100 * float64(v.Counts.AutoReject) / n,
	}
	v.Decision = Decision(ZoneOf(v.Confidence, t))
	v.ConfidenceLevel = confidenceLevel(v.Decision, v.Confidence, t)
	v.Recommendation = v.Decision.Action()
	if len(cautions) > 0 {
		v.Cautions = slices.Clone(cautions)
		v.Decision, v.ConfidenceLevel = Review, "Uncertain"
		v.Recommendation = ActionReview + ": " + CautionReasons(cautions)
	}
	return v, nil
}

// confidenceLevel says how sure an automatic decision is: "High" when the
// score lies in the outer half of its zone, "Moderate" in the inner half, and
// "Uncertain" for anything sent to review.
func confidenceLevel(d Decision, score float64, t Thresholds) string {
	switch d {
	case Pass:
		if score < t.Pass/2 {
			return "High"
		}
		return "Moderate"
	case Reject:
		if score > t.Reject+(1-t.Reject)/2 {
			return "High"
		}
		return "Moderate"
	default:
		return "Uncertain"
	}
}

// decimalNumber is how a threshold is written: plain decimal, with an
// optional exponent. Hexadecimal floats ("0x1p-2"), "Inf", "NaN" and
// underscores, which strconv.ParseFloat also takes, are refused.
var decimalNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// ParseThreshold reads one threshold value: a decimal number from 0 to 1.
// The one parser for every entry point (command-line flags, the HTTP API).
func ParseThreshold(raw string) (float64, error) {
	s := strings.TrimSpace(raw)
	if !decimalNumber.MatchString(s) {
		return 0, fmt.Errorf("%q is not a decimal number", raw)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is out of range: a threshold is from 0 to 1", raw)
	}
	return v, nil
}
