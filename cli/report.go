package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/central"
)

// runReport summarises the plant's inspections in the central database:
// counts by station, shift and final decision, review and override
// rates, and the latest overrides.
func runReport(args []string, env Env) error {
	fs := newFlagSet("report", env)
	url := fs.String("central", "", "the central PostgreSQL `URL` the stations forward to (--central on scan, watch, serve, the window)")
	since := fs.String("since", "7d", "the period's start: a `time` (2006-01-02, RFC 3339) or a duration back from now (8h, 7d)")
	format := fs.String("format", "text", "output `format`: text or csv (csv: the counts only)")
	top := fs.Int("top", 10, "list this many of the latest overrides")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *url == "" {
		return fmt.Errorf("%w: usage: steelinspect report --central URL [--since 7d] [--format text|csv] [--top 10]", errUsage)
	}
	from, err := parseWhen(*since, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if *format != "text" && *format != "csv" {
		return fmt.Errorf("%w: --format %q is not text or csv", errUsage, *format)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, *url)
	if err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	defer conn.Close(context.Background())
	rows, overrides, err := central.Report(ctx, conn, from, time.Local, *top)
	if err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	if *format == "csv" {
		w := csv.NewWriter(env.Stdout)
		w.Write([]string{"station", "shift", "total", "pass", "review", "reject", "sent_to_review", "overridden", "review_rate", "override_rate"})
		for _, r := range rows {
			w.Write([]string{r.Station, r.Shift, fmt.Sprint(r.Total), fmt.Sprint(r.Pass), fmt.Sprint(r.Review), fmt.Sprint(r.Reject),
				fmt.Sprint(r.AutoReview), fmt.Sprint(r.Overridden), fmt.Sprintf("%.4f", r.ReviewRate()), fmt.Sprintf("%.4f", r.OverrideRate())})
		}
		w.Flush()
		return w.Error()
	}
	fmt.Fprintf(env.Stdout, "Inspections since %s (shifts by local hour: early 06–14, late 14–22, night 22–06)\n\n", from.Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "station\tshift\tstrips\tPASS\tREVIEW\tREJECT\tsent to review\toverridden\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f %%\t%.1f %%\t\n", r.Station, r.Shift, r.Total, r.Pass, r.Review, r.Reject,
			100*r.ReviewRate(), 100*r.OverrideRate())
	}
	tw.Flush()
	if len(overrides) > 0 {
		fmt.Fprintf(env.Stdout, "\nLatest overrides:\n")
		for _, o := range overrides {
			fmt.Fprintf(env.Stdout, "  %s  %s  %s: %s → %s by %s: %s\n", o.InspectedAt.Local().Format("2006-01-02 15:04"), o.Station, o.Path,
				o.Auto, o.Final, o.Operator, o.Reason)
		}
	}
	return nil
}
