package evaluate

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"steelinspect/verdict"
)

// Confusion is a 2×2 confusion matrix.
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

// Recall is TP/(TP+FN); 0 when there are no positives.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// Precision is TP/(TP+FP); 0 when nothing was flagged.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// F2 weighs recall four times as much as precision.
func (c Confusion) F2() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 5 * p * r / (4*p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ConfusionAt counts scores >= threshold as flagged.
func ConfusionAt(scores []float32, truth []bool, threshold float64) Confusion {
	var c Confusion
	for i, s := range scores {
		flagged := float64(s) >= threshold
		switch {
		case flagged && truth[i]:
			c.TP++
		case flagged:
			c.FP++
		case truth[i]:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

// ROCAUC is the probability that a random positive scores above a random
// negative (ties count half): the Mann-Whitney statistic. NaN without both
// classes.
func ROCAUC(scores []float32, truth []bool) float64 {
	idx := sortedByScore(scores)
	pos, neg := 0, 0
	for _, t := range truth {
		if t {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	// Sum of positive ranks, with tied scores sharing their mean rank.
	rankSum := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mean := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if truth[idx[k]] {
				rankSum += mean
			}
		}
		i = j
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// AveragePrecision is the area under the precision-recall curve as the
// mean precision at each positive's rank (scores descending, ties grouped).
// NaN without positives.
func AveragePrecision(scores []float32, truth []bool) float64 {
	idx := sortedByScore(scores)
	pos := 0
	for _, t := range truth {
		if t {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	ap, tp, seen := 0.0, 0, 0
	for i := len(idx) - 1; i >= 0; {
		j := i
		groupTP := 0
		for j >= 0 && scores[idx[j]] == scores[idx[i]] {
			if truth[idx[j]] {
				groupTP++
			}
			j--
		}
		seen += i - j
		tp += groupTP
		ap += float64(groupTP) / float64(pos) * float64(tp) / float64(seen)
		i = j
	}
	return ap
}

func sortedByScore(scores []float32) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	return idx
}

// StripOutcome is the 3×2 table of decision × truth at one threshold pair.
type StripOutcome struct {
	Thresholds verdict.Thresholds `json:"thresholds"`
	// Table[decision][0] counts defect-free strips, [1] defective ones.
	Table          [3][2]int `json:"table"`
	Missed         int       `json:"missed"`       // defective strips auto-passed
	FalseAlarms    int       `json:"false_alarms"` // defect-free strips auto-rejected
	Reviewed       int       `json:"reviewed"`
	Strips         int       `json:"strips"`
	Defective      int       `json:"defective"`
	MissedRate     float64   `json:"missed_rate"`      // of defective strips
	FalseAlarmRate float64   `json:"false_alarm_rate"` // of defect-free strips
	ReviewRate     float64   `json:"review_rate"`      // of all strips
	AutomationRate float64   `json:"automation_rate"`  // of all strips
}

// OutcomeAt decides every strip from its confidence (highest patch
// probability) and tallies the outcomes against the truth.
func OutcomeAt(confidence []float64, defective []bool, t verdict.Thresholds) StripOutcome {
	return OutcomeHeld(confidence, defective, nil, t)
}

// OutcomeHeld is OutcomeAt where the strips marked in held (those with a
// caution: implausible or unfamiliar) go to review whatever their
// confidence. held may be nil.
func OutcomeHeld(confidence []float64, defective, held []bool, t verdict.Thresholds) StripOutcome {
	o := StripOutcome{Thresholds: t, Strips: len(confidence)}
	for i, c := range confidence {
		d := verdict.Decision(verdict.ZoneOf(c, t)) // a strip's decision is its confidence's zone
		if held != nil && held[i] {
			d = verdict.Review
		}
		truth := 0
		if defective[i] {
			truth = 1
			o.Defective++
		}
		o.Table[d][truth]++
	}
	o.Missed = o.Table[verdict.Pass][1]
	o.FalseAlarms = o.Table[verdict.Reject][0]
	o.Reviewed = o.Table[verdict.Review][0] + o.Table[verdict.Review][1]
	o.MissedRate = ratio(o.Missed, o.Defective)
	o.FalseAlarmRate = ratio(o.FalseAlarms, o.Strips-o.Defective)
	o.ReviewRate = ratio(o.Reviewed, o.Strips)
	o.AutomationRate = 1 - o.ReviewRate
	if o.Strips == 0 {
		o.AutomationRate = 0
	}
	return o
}

// Sweep evaluates every threshold pair on a 0.01 grid (0 <= pass < reject
// <= 1) and returns the outcomes, pass-major.
func Sweep(confidence []float64, defective []bool) []StripOutcome {
	return SweepHeld(confidence, defective, nil)
}

// SweepHeld is Sweep with held strips going to review at every pair.
func SweepHeld(confidence []float64, defective, held []bool) []StripOutcome {
	var out []StripOutcome
	for p := 0; p <= 99; p++ {
		for r := p + 1; r <= 100; r++ {
			out = append(out, OutcomeHeld(confidence, defective, held, verdict.Thresholds{Pass: float64(p) / 100, Reject: float64(r) / 100}))
		}
	}
	return out
}

// Suggest picks, among outcomes with at most maxMissed missed strips, the
// one with the fewest false alarms (defect-free strips auto-rejected),
// then the fewest reviews; remaining ties go to the first in sweep order
// (lowest pass, then lowest reject). A clean strip rejected is a wrong
// decision and a reviewed one is not, so review is never bought with
// false alarms: least review first suggested pass 0.00 / reject 0.01 on a
// set whose faintest defect scored like clean steel, rejecting every
// clean strip. ok is false when no pair meets the target.
func Suggest(outcomes []StripOutcome, maxMissed int) (best StripOutcome, ok bool) {
	for _, o := range outcomes {
		if o.Missed > maxMissed {
			continue
		}
		if !ok || o.FalseAlarms < best.FalseAlarms || (o.FalseAlarms == best.FalseAlarms && o.Reviewed < best.Reviewed) {
			best, ok = o, true
		}
	}
	return best, ok
}

// Metric is a measurement that may be undefined (NaN), written to JSON as
// null in that case.
type Metric float64

// MarshalJSON writes the value, or null when undefined.
func (m Metric) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(m), 'g', -1, 64), nil
}

// Safeguards of a suggested pair: how narrow a review band and how few
// labelled strips it may rest on before the suggestion says so.
const (
	MinReviewBand      = 0.05
	MinSuggestStrips   = 100
	MinSuggestEachKind = 30
)

// Caveats says, in sentences, why a suggested pair should not be trusted
// as it is: a review band narrower than MinReviewBand (a small drift in the
// model's scores then moves strips straight between PASS and REJECT), or
// too few labelled strips behind it. None for a well-backed pair.
func Caveats(o StripOutcome) []string {
	var out []string
	if band := o.Thresholds.Reject - o.Thresholds.Pass; band < MinReviewBand {
		out = append(out, fmt.Sprintf("the review band is only %.2f wide (pass %.2f, reject %.2f): a small drift in the model's scores would move strips straight between PASS and REJECT; keep it at least %.2f",
			band, o.Thresholds.Pass, o.Thresholds.Reject, MinReviewBand))
	}
	clean := o.Strips - o.Defective
	switch {
	case o.Strips < MinSuggestStrips:
		out = append(out, fmt.Sprintf("only %d labelled strips back it (%d defective, %d defect-free): measure on at least %d, %d of each kind",
			o.Strips, o.Defective, clean, MinSuggestStrips, MinSuggestEachKind))
	case o.Defective < MinSuggestEachKind || clean < MinSuggestEachKind:
		out = append(out, fmt.Sprintf("only %d defective and %d defect-free strips back it: at least %d of each kind",
			o.Defective, clean, MinSuggestEachKind))
	}
	return out
}
