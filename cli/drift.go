package cli

import (
	"context"
	"fmt"
	"time"

	"steelinspect/learn"
)

// runDrift prints the trail's signs of drift for a period (a shift, by
// default the last 12 hours) and whether learning again is suggested.
func runDrift(args []string, env Env) error {
	var db dbFlag
	fs := newFlagSet("drift", env)
	db.register(fs)
	since := fs.String("since", "12h", "the period's start: 2006-01-02, 2006-01-02T15:04, RFC 3339, or a duration back from now (12h, 7d)")
	l := learn.DefaultDriftLimits
	fs.Float64Var(&l.Unfamiliar, "unfamiliar", l.Unfamiliar, "suggest learning again above this `share` of unfamiliar strips (0: off)")
	fs.Float64Var(&l.Overridden, "overridden", l.Overridden, "… above this `share` of automatic decisions a person overrode (0: off)")
	fs.Float64Var(&l.Review, "review", l.Review, "… above this `share` of strips sent to review (0: off)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	for _, v := range []float64{l.Unfamiliar, l.Overridden, l.Review} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%w: the limits are shares between 0 and 1", errUsage)
		}
	}
	now := time.Now()
	from, err := parseWhen(*since, now)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := learn.MeasureDrift(context.Background(), store, from, now, l)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "since %s: %s\n", from.Format("2006-01-02 15:04"), d.Summary())
	if d.Suggest != "" {
		fmt.Fprintln(env.Stdout, d.Suggest)
	} else {
		fmt.Fprintln(env.Stdout, "no sign of drift past its limit")
	}
	return nil
}
