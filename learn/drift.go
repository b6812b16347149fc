package learn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// The station watches its own signs of drift (the seed's "retraining
// triggers"): the share of strips unlike anything the model knows, the
// share of automatic decisions a person overrode, and the share sent to
// review. When one passes the limit the supervisor set, learning again is
// suggested, with the figures that say why.

// DriftLimits are the shares above which learning again is suggested; 0
// turns a sign off.
type DriftLimits struct {
	Unfamiliar, Overridden, Review float64
}

// DefaultDriftLimits suit a station whose model knows its line: one strip
// in ten unfamiliar, one automatic decision in twenty overridden, or
// three strips in ten sent to review is unusual.
var DefaultDriftLimits = DriftLimits{Unfamiliar: 0.10, Overridden: 0.05, Review: 0.30}

// Drift is what the trail says about one period.
type Drift struct {
	Since, Until time.Time
	Strips       int
	// Unfamiliar counts strips the model did not recognise; Automatic the
	// strips decided PASS or REJECT automatically, Overridden those of
	// them a person changed; Reviewed the strips sent to review.
	Unfamiliar, Automatic, Overridden, Reviewed int
	// Suggest says why learning again is suggested ("" when it is not).
	Suggest string
}

// share is n of d, 0 for none.
func share(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// MeasureDrift reads the trail's strips of [since, until) and measures
// the signs of drift against limits.
func MeasureDrift(ctx context.Context, store *audit.Store, since, until time.Time, limits DriftLimits) (Drift, error) {
	d := Drift{Since: since, Until: until}
	err := store.EachInspection(ctx, audit.Query{Since: since, Until: until}, func(in *audit.Inspection) error {
		d.Strips++
		if strings.Contains(in.CautionKinds, string(verdict.CautionUnfamiliar)) {
			d.Unfamiliar++
		}
		switch in.AutoDecision {
		case verdict.Review:
			d.Reviewed++
		case verdict.Pass, verdict.Reject:
			d.Automatic++
			if in.FinalDecision() != in.AutoDecision {
				d.Overridden++
			}
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	d.Suggest = d.SuggestFor(limits)
	return d, nil
}

// SuggestFor names each sign past its limit, in plain words ("re-learn
// suggested: …"), "" when none is: the station's own drift command and the
// plant report (a station's shift in the central database) say it alike.
func (d Drift) SuggestFor(l DriftLimits) string {
	var why []string
	if u := share(d.Unfamiliar, d.Strips); l.Unfamiliar > 0 && u > l.Unfamiliar {
		why = append(why, fmt.Sprintf("%.0f %% of the strips unfamiliar", 100*u))
	}
	if o := share(d.Overridden, d.Automatic); l.Overridden > 0 && o > l.Overridden {
		why = append(why, fmt.Sprintf("%.0f %% of automatic decisions overridden", 100*o))
	}
	if r := share(d.Reviewed, d.Strips); l.Review > 0 && r > l.Review {
		why = append(why, fmt.Sprintf("%.0f %% of the strips sent to review", 100*r))
	}
	if len(why) == 0 {
		return ""
	}
	return "re-learn suggested: " + strings.Join(why, ", ")
}

// Summary is the period's signs in one line.
func (d Drift) Summary() string {
	return fmt.Sprintf("%d strips: %d unfamiliar (%.0f %%), %d of %d automatic decisions overridden (%.0f %%), %d sent to review (%.0f %%)",
		d.Strips, d.Unfamiliar, 100*share(d.Unfamiliar, d.Strips), d.Overridden, d.Automatic, 100*share(d.Overridden, d.Automatic),
		d.Reviewed, 100*share(d.Reviewed, d.Strips))
}

// SettingDriftLimits is the recorded setting holding the supervisor's
// drift limits, as DriftLimits.String writes them.
const SettingDriftLimits = "drift_limits"

// String writes the limits as the trail records them.
func (l DriftLimits) String() string {
	return fmt.Sprintf("unfamiliar=%.2f overridden=%.2f review=%.2f", l.Unfamiliar, l.Overridden, l.Review)
}

// Validate says why limits cannot be used: each is a share from 0 to 1.
func (l DriftLimits) Validate() error {
	for _, v := range []float64{l.Unfamiliar, l.Overridden, l.Review} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("drift limits are shares from 0 to 1 (0: off), not %v", v)
		}
	}
	return nil
}

// parseDriftLimits reads limits as String writes them.
func parseDriftLimits(s string) (DriftLimits, error) {
	var l DriftLimits
	if _, err := fmt.Sscanf(s, "unfamiliar=%g overridden=%g review=%g", &l.Unfamiliar, &l.Overridden, &l.Review); err != nil {
		return l, fmt.Errorf("recorded drift limits %q: %v", s, err)
	}
	return l, l.Validate()
}

// DriftLimitsInForce are the limits the supervisor last recorded in the
// trail, else DefaultDriftLimits; recorded says which.
func DriftLimitsInForce(ctx context.Context, store *audit.Store) (l DriftLimits, recorded bool, err error) {
	latest, err := store.LatestSettings(ctx)
	if err != nil {
		return DefaultDriftLimits, false, err
	}
	v, ok := latest[SettingDriftLimits]
	if !ok {
		return DefaultDriftLimits, false, nil
	}
	l, err = parseDriftLimits(v)
	return l, err == nil, err
}

// RecordDriftLimits records the supervisor's limits, by who.
func RecordDriftLimits(ctx context.Context, store *audit.Store, who string, l DriftLimits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	latest, err := store.LatestSettings(ctx)
	if err != nil {
		return err
	}
	return store.AddSettingChange(ctx, who, SettingDriftLimits, latest[SettingDriftLimits], l.String())
}
