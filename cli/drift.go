package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"steelinspect/learn"
)

// runDrift prints the trail's signs of drift for a period (a shift, by
// default the last 12 hours) and whether learning again is suggested,
// against the limits the supervisor recorded ("drift limits" records
// them; flags given to drift itself apply to that one look).
func runDrift(args []string, env Env) error {
	if len(args) > 0 && args[0] == "limits" {
		return runDriftLimits(args[1:], env)
	}
	var db dbFlag
	fs := newFlagSet("drift", env)
	db.register(fs)
	since := fs.String("since", "12h", "the period's start: 2006-01-02, 2006-01-02T15:04, RFC 3339, or a duration back from now (12h, 7d)")
	var l learn.DriftLimits
	registerDriftLimits(fs, &l)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
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
	ctx := context.Background()
	limits, recorded, err := learn.DriftLimitsInForce(ctx, store)
	if err != nil {
		return err
	}
	limits = overDriftLimits(fs, limits, l)
	if err := limits.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	d, err := learn.MeasureDrift(ctx, store, from, now, limits)
	if err != nil {
		return err
	}
	source := "the defaults"
	if recorded {
		source = "the supervisor's"
	}
	fmt.Fprintf(env.Stdout, "since %s: %s\n", from.Format("2006-01-02 15:04"), d.Summary())
	if d.Suggest != "" {
		fmt.Fprintln(env.Stdout, d.Suggest)
	} else {
		fmt.Fprintf(env.Stdout, "no sign of drift past its limit (%s: %s)\n", source, limits)
	}
	return nil
}

// registerDriftLimits adds the three limits' flags.
func registerDriftLimits(fs *flag.FlagSet, l *learn.DriftLimits) {
	d := learn.DefaultDriftLimits
	fs.Float64Var(&l.Unfamiliar, "unfamiliar", d.Unfamiliar, "suggest learning again above this `share` of unfamiliar strips (0: off)")
	fs.Float64Var(&l.Overridden, "overridden", d.Overridden, "… above this `share` of automatic decisions a person overrode (0: off)")
	fs.Float64Var(&l.Review, "review", d.Review, "… above this `share` of strips sent to review (0: off)")
}

// overDriftLimits is base with the limits given on the command line.
func overDriftLimits(fs *flag.FlagSet, base, given learn.DriftLimits) learn.DriftLimits {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "unfamiliar":
			base.Unfamiliar = given.Unfamiliar
		case "overridden":
			base.Overridden = given.Overridden
		case "review":
			base.Review = given.Review
		}
	})
	return base
}

// runDriftLimits records the supervisor's drift limits (signed in on a
// station with users), which drift, and the window, then judge by.
func runDriftLimits(args []string, env Env) error {
	var db dbFlag
	var sup supervisorFlags
	fs := newFlagSet("drift limits", env)
	db.register(fs)
	sup.register(fs)
	var l learn.DriftLimits
	registerDriftLimits(fs, &l)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	limits, _, err := learn.DriftLimitsInForce(ctx, store)
	if err != nil {
		return err
	}
	limits = overDriftLimits(fs, limits, l)
	if err := limits.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	who, err := sup.changedBy(ctx, store, "to set the drift limits")
	if err != nil {
		return err
	}
	if err := learn.RecordDriftLimits(ctx, store, who, limits); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "steelinspect drift: limits %s recorded in %s\n", limits, store.Path())
	return nil
}
