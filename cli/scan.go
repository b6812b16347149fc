package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/internal/csvsafe"
	"steelinspect/internal/files"
	"steelinspect/station"
	"steelinspect/verdict"
)

// errSomeFailed reports that the run went through but some files failed;
// each failure was already reported in its record and on stderr.
var errSomeFailed = errors.New("some files failed")

func runScan(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("scan", env)
	common.register(fs)
	var thf thresholdFlags
	thf.register(fs)
	var sup supervisorFlags
	sup.register(fs)
	format := fs.String("format", "jsonl", "output `format`: jsonl or csv")
	record := fs.Bool("audit", false, "record every scored strip in the audit database (see --db)")
	var db dbFlag
	db.register(fs)
	var mq lineFlags
	mq.register(fs)
	var af archiveFlags
	af.register(fs)
	lineWait := fs.Duration("line-wait", 30*time.Second, "with --mqtt or --central: how long to wait at the end for the broker or the central database to take every record (the rest stay queued in the audit trail)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: steelinspect scan [--model M] [--pass 0.40] [--reject 0.65] [--format jsonl|csv] [--audit [--user NAME --password-file F]] PATH...\n"+
			"With --audit it decides with the thresholds in force in the trail (steelinspect settings show); --pass/--reject there need a supervisor's sign-in on a station with users.")
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: no PATH given (files or folders of JPEG, PNG, BMP or TIFF images)", errUsage)
	}
	write, flush, err := newRecordWriter(*format, env.Stdout)
	if err != nil {
		return err
	}
	if err := thf.checkGiven(); err != nil {
		return err
	}
	spec, err := prepareStation(&common, &db, &mq, &af, false, env)
	if err != nil {
		return err
	}
	spec.noTrail = !*record && !mq.on() && mq.central == "" // the audit trail is their outbox
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := openStation(ctx, spec)
	if err != nil {
		return err
	}
	defer st.Close()
	// with a trail, the thresholds in force in it, read once for the run
	th, err := runThresholds(ctx, st, &thf, &sup, "scan")
	if err != nil {
		return err
	}
	st.Fix(th)
	stopLine, err := startLine(st)
	if err != nil {
		return err
	}
	defer stopLine()
	failed, err := scanAll(ctx, st, expandPaths(paths), th, write, env)
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), *lineWait)
	defer cancelDrain()
	if err := st.DrainLine(drainCtx); err != nil {
		return err
	}
	if failed > 0 {
		return errSomeFailed
	}
	return nil
}

// scanAll scores the targets with st's engine at th, concluding each
// (scanOne) and writing its record; failed counts the records of files
// that failed. A strip scored but not recorded stops the run.
func scanAll(ctx context.Context, st *station.Station, targets []scanTarget, th verdict.Thresholds, write func(verdict.Record) error, env Env) (failed int, err error) {
	e := st.Engine()
	model := e.Manifest().Identity()
	var files []string
	for _, t := range targets {
		if t.err == nil {
			files = append(files, t.path)
		}
	}
	// The next file is read and decoded while this one is in the model.
	prepared := e.Pipeline(ctx, files)
	for _, target := range targets {
		var rec verdict.Record
		if target.err != nil {
			rec = verdict.ErrorRecord(target.path, target.err, model, th)
		} else if rec, err = scanOne(ctx, st, e, <-prepared, th, model); err != nil {
			return failed, err // scored but not recorded: stop, print nothing as done
		}
		if rec.Error != "" {
			failed++
			fmt.Fprintf(env.Stderr, "steelinspect scan: %s: %s\n", rec.Path, rec.Error)
		}
		if err := write(rec); err != nil {
			return failed, fmt.Errorf("write output: %w", err)
		}
	}
	return failed, nil
}

// scanTarget is one file to score, or a path that could not be listed.
type scanTarget struct {
	path string
	err  error
}

// expandPaths turns the command line's files and folders into the files to
// score: named files as they are (whatever their extension), folders
// recursively (image extensions only, in name order).
func expandPaths(paths []string) []scanTarget {
	var out []scanTarget
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			out = append(out, scanTarget{path: p, err: fmt.Errorf("cannot open: %w", errors.Unwrap(err))})
			continue
		}
		if !st.IsDir() {
			out = append(out, scanTarget{path: p})
			continue
		}
		for _, f := range files.WalkImages(p) {
			out = append(out, scanTarget{path: f.Path, err: f.Err})
		}
	}
	return out
}

// scanOne analyses one prepared image and concludes it (decided, and
// recorded when there is a trail). An image that cannot be analysed gets an
// error record; a strip that cannot be recorded is an error for the run.
func scanOne(ctx context.Context, st *station.Station, e *inference.Engine, p inference.Prepared, th verdict.Thresholds, model verdict.ModelIdentity) (verdict.Record, error) {
	a, err := e.AnalyzePrepared(ctx, p)
	if err != nil {
		return verdict.ErrorRecord(p.Name(), err, model, th), nil
	}
	res, err := st.Conclude(ctx, a, th, station.Source{Name: station.SourceScan})
	switch {
	case errors.Is(err, station.ErrNotRecorded):
		return verdict.Record{}, err
	case err != nil:
		return verdict.ErrorRecord(p.Name(), err, model, th), nil
	}
	if res.ArchiveErr != nil {
		fmt.Fprintf(os.Stderr, "steelinspect scan: %s: %v\n", p.Name(), res.ArchiveErr)
	}
	return res.Record, nil
}

// csvHeader lists the CSV columns; patches are packed into one column as
// x:y:w:h:probability:zone entries separated by ';'.
var csvHeader = []string{"path", "error", "decision", "confidence", "confidence_level", "mean_probability",
	"auto_pass", "manual_review", "auto_reject", "recommendation", "width", "height", "image_sha256",
	"model_name", "model_version", "model_sha256", "pass_threshold", "reject_threshold",
	"decode_ms", "inference_ms", "total_ms", "patches", "caution_kinds", "cautions", "familiarity", "familiarity_limit"}

func newRecordWriter(format string, w io.Writer) (write func(verdict.Record) error, flush func() error, err error) {
	switch format {
	case "jsonl":
		enc := json.NewEncoder(w)
		return func(r verdict.Record) error { return enc.Encode(r) }, func() error { return nil }, nil
	case "csv":
		// file names come from outside: every cell is neutralised for spreadsheets
		cw := csvsafe.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return nil, nil, err
		}
		write = func(r verdict.Record) error { return cw.Write(csvRow(r)) }
		flush = cw.Flush
		return write, flush, nil
	}
	return nil, nil, fmt.Errorf("%w: --format %q is not jsonl or csv", errUsage, format)
}

func csvRow(r verdict.Record) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	row := []string{r.Path, r.Error, r.Decision.String(), "", r.ConfidenceLevel, "", "", "", "", r.Recommendation, "", "", "",
		r.Model.Name, r.Model.Version, r.Model.SHA256, f(r.Thresholds.Pass), f(r.Thresholds.Reject), "", "", "", "", "", "", "", ""}
	if r.Error != "" {
		return row
	}
	row[3], row[5] = f(r.Confidence), f(r.MeanProbability)
	row[6], row[7], row[8] = strconv.Itoa(r.Zones.AutoPass), strconv.Itoa(r.Zones.ManualReview), strconv.Itoa(r.Zones.AutoReject)
	row[10], row[11], row[12] = strconv.Itoa(r.Image.Width), strconv.Itoa(r.Image.Height), r.Image.SHA256
	row[18], row[19], row[20] = f(r.Timings.DecodeMS), f(r.Timings.InferenceMS), f(r.Timings.TotalMS)
	patches := make([]string, len(r.Patches))
	for i, p := range r.Patches {
		patches[i] = fmt.Sprintf("%d:%d:%d:%d:%.6f:%s", p.X, p.Y, p.W, p.H, p.Probability, p.Zone)
	}
	row[21] = strings.Join(patches, ";")
	kinds := make([]string, len(r.Cautions))
	for i, c := range r.Cautions {
		kinds[i] = string(c.Kind)
	}
	row[22], row[23] = strings.Join(kinds, ","), verdict.CautionReasons(r.Cautions)
	if r.Familiarity != nil {
		row[24], row[25] = f(r.Familiarity.Score), f(r.Familiarity.Limit)
	}
	return row
}
