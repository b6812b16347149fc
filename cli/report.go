package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"steelinspect/central"
	"steelinspect/internal/csvsafe"
	"steelinspect/internal/files"
	"steelinspect/learn"
)

const reportUsage = "usage: steelinspect report --central URL [--since 7d] [--line L] [--format text|csv|png] [--out FILE] [--top 10] [--unfamiliar 0.10] [--overridden 0.05] [--review 0.30]"

// reportOptions is report's command line.
type reportOptions struct {
	url, format, out string
	line             string
	from             time.Time
	top              int
	// limits are the signs of drift past which a station's shift is
	// named for learning again
	limits learn.DriftLimits
}

// runReport summarises the plant's inspections in the central database:
// counts by station, shift and final decision, review and override
// rates, and the latest overrides; as text, CSV or a PNG chart.
func runReport(args []string, env Env) error {
	o, err := parseReportFlags(args, env)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := connectCentral(ctx, o.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	rows, overrides, err := central.Report(ctx, conn, central.ReportQuery{Since: o.from, Loc: time.Local, Line: o.line, Top: o.top})
	if err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	stations, err := central.StationList(ctx, conn, o.line)
	if err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	switch o.format {
	case "csv":
		return writeReportCSV(env.Stdout, rows)
	case "png":
		return writeReportPNG(env.Stdout, o, rows)
	}
	writeReportText(env.Stdout, o.from, rows, overrides, stations)
	writeRelearn(env.Stdout, rows, o.limits)
	return nil
}

func parseReportFlags(args []string, env Env) (reportOptions, error) {
	fs := newFlagSet("report", env)
	url := fs.String("central", "", "the central PostgreSQL `URL` the stations forward to (--central on scan, watch, serve, the window)")
	since := fs.String("since", "7d", "the period's start: a `time` (2006-01-02, RFC 3339) or a duration back from now (8h, 7d)")
	format := fs.String("format", "text", "output `format`: text, csv (the counts only) or png (a chart of the counts by station, written to --out)")
	out := fs.String("out", "", "the PNG `file` --format png writes (replaced whole, never half-written)")
	top := fs.Int("top", 10, "list this many of the latest overrides")
	line := fs.String("line", "", "only the stations on this production `line` (--line on the stations)")
	var limits learn.DriftLimits
	registerDriftLimits(fs, &limits)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return reportOptions{}, err
	}
	if len(rest) > 0 || *url == "" {
		return reportOptions{}, fmt.Errorf("%w: %s", errUsage, reportUsage)
	}
	o := reportOptions{url: *url, format: *format, out: *out, top: *top, line: *line,
		limits: overDriftLimits(fs, learn.DefaultDriftLimits, limits)}
	if err := o.limits.Validate(); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.from, err = parseWhen(*since, time.Now()); err != nil {
		return o, fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	switch {
	case o.format != "text" && o.format != "csv" && o.format != "png":
		return o, fmt.Errorf("%w: --format %q is not text, csv or png", errUsage, o.format)
	case o.format == "png" && o.out == "":
		return o, fmt.Errorf("%w: --format png needs --out FILE (a PNG is not written to the terminal)", errUsage)
	case o.format != "png" && o.out != "":
		return o, fmt.Errorf("%w: --out is for --format png (text and csv go to standard output)", errUsage)
	}
	return o, nil
}

func writeReportCSV(out io.Writer, rows []central.ReportRow) error {
	w := csvsafe.NewWriter(out) // station and line names come from the stations
	w.Write([]string{"station", "line", "shift", "total", "pass", "review", "reject", "sent_to_review", "overridden", "review_rate", "override_rate"})
	for _, r := range rows {
		w.Write([]string{r.Station, r.Line, r.Shift, fmt.Sprint(r.Total), fmt.Sprint(r.Pass), fmt.Sprint(r.Review), fmt.Sprint(r.Reject),
			fmt.Sprint(r.AutoReview), fmt.Sprint(r.Overridden), fmt.Sprintf("%.4f", r.ReviewRate()), fmt.Sprintf("%.4f", r.OverrideRate())})
	}
	return w.Flush()
}

// writeReportPNG draws the chart and replaces o.out with it, then says
// where in one line.
func writeReportPNG(out io.Writer, o reportOptions, rows []central.ReportRow) error {
	var buf bytes.Buffer
	if err := central.Chart(&buf, rows, o.from, central.ChartWidth, central.ChartHeight); err != nil {
		return err
	}
	if err := files.WriteAtomic(o.out, buf.Bytes()); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	_, err := fmt.Fprintf(out, "wrote the chart of the inspections since %s to %s (PNG, %d×%d)\n", o.from.Format("2006-01-02 15:04"), o.out,
		central.ChartWidth, central.ChartHeight)
	return err
}

func writeReportText(out io.Writer, from time.Time, rows []central.ReportRow, overrides []central.Override, stations []central.StationInfo) {
	fmt.Fprintf(out, "Inspections since %s (shifts by local hour: early 06–14, late 14–22, night 22–06)\n\n", from.Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "station\tline\tshift\tstrips\tPASS\tREVIEW\tREJECT\tsent to review\toverridden\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.1f %%\t%.1f %%\t\n", r.Station, orDash(r.Line), r.Shift, r.Total, r.Pass, r.Review, r.Reject,
			100*r.ReviewRate(), 100*r.OverrideRate())
	}
	tw.Flush()
	if len(overrides) > 0 {
		fmt.Fprintf(out, "\nLatest overrides:\n")
		for _, o := range overrides {
			fmt.Fprintf(out, "  %s  %s  %s: %s → %s by %s: %s\n", o.InspectedAt.Local().Format("2006-01-02 15:04"), o.Station, o.Path,
				o.Auto, o.Final, o.Operator, o.Reason)
		}
	}
	if len(stations) > 0 {
		fmt.Fprintf(out, "\nStations, last heard from (connected or delivered):\n")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, s := range stations {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t(%s ago)\n", orDash(s.Line), s.Station, s.LastSeen.Local().Format("2006-01-02 15:04"),
				time.Since(s.LastSeen).Round(time.Minute))
		}
		tw.Flush()
	}
}

// writeRelearn names each station's shift whose signs of drift pass the
// limits, as the station's own drift command would.
func writeRelearn(out io.Writer, rows []central.ReportRow, limits learn.DriftLimits) {
	var lines []string
	for _, r := range rows {
		d := learn.Drift{Strips: r.Total, Unfamiliar: r.Unfamiliar, Automatic: r.Total - r.AutoReview,
			Overridden: r.Overridden, Reviewed: r.AutoReview}
		if why := d.SuggestFor(limits); why != "" {
			lines = append(lines, fmt.Sprintf("  %s, %s shift: %s", r.Station, r.Shift, why))
		}
	}
	if len(lines) == 0 {
		fmt.Fprintf(out, "\nNo station past its signs of drift (limits: %s).\n", limits)
		return
	}
	fmt.Fprintf(out, "\nLearning again suggested (limits: %s):\n%s\n", limits, strings.Join(lines, "\n"))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
