package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"steelinspect/hotfolder"
)

func runWatch(args []string, env Env) error {
	var common commonFlags
	var db dbFlag
	fs := newFlagSet("watch", env)
	common.register(fs)
	db.register(fs)
	var thf thresholdFlags
	thf.register(fs)
	var sup supervisorFlags
	sup.register(fs)
	settle := fs.Duration("settle", time.Second, "a file counts as completely written once unchanged this long")
	incompleteWait := fs.Duration("incomplete-wait", hotfolder.DefaultIncompleteWait,
		"a settled JPEG, PNG or BMP that visibly lacks its end is waited for this long after it last changed, then scored as truncated")
	noAudit := fs.Bool("no-audit", false, "do not record decisions in the audit database")
	var mq lineFlags
	mq.register(fs)
	var af archiveFlags
	af.register(fs)
	mq.registerOPCUA(fs, nil)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: want exactly one DIR to watch", errUsage)
	}
	if st, err := os.Stat(rest[0]); err != nil || !st.IsDir() {
		return fmt.Errorf("%w: %s is not a folder", errUsage, rest[0])
	}
	if err := thf.checkGiven(); err != nil {
		return err
	}
	spec, err := prepareStation(&common, &db, &mq, &af, *noAudit, env)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openStation(ctx, spec)
	if err != nil {
		return err
	}
	defer st.Close()
	e := st.Engine()
	// the thresholds in force in the trail, read again for each strip, or the run's own
	th, err := runThresholds(ctx, st, &thf, &sup, "watch")
	if err != nil {
		return err
	}
	inForce := st.Follow()
	stopLine, err := startLine(st)
	if err != nil {
		return err
	}
	defer stopLine()
	defer logLineOutages(st, env.Stderr, "steelinspect watch")()
	enc := json.NewEncoder(env.Stdout)
	w := &hotfolder.Watcher{Dir: rest[0], Engine: e, Station: st, Thresholds: th, Settle: *settle, IncompleteWait: *incompleteWait,
		Log: func(line string) { fmt.Fprintf(env.Stderr, "steelinspect watch: %s\n", line) },
		OnResult: func(r hotfolder.Result) {
			line := map[string]any{"file": r.Name, "decision": r.Decision.String(), "moved_to": r.MovedTo, "resumed": r.Resumed}
			if r.Err != nil {
				line["error"] = r.Err.Error()
				fmt.Fprintf(env.Stderr, "steelinspect watch: %v\n", r.Err)
			}
			if r.Warning != "" {
				fmt.Fprintf(env.Stderr, "steelinspect watch: %s\n", r.Warning)
			}
			enc.Encode(line)
		}}
	fmt.Fprintf(env.Stderr, "steelinspect watch: watching %s with %s %s (pass %.2f, reject %.2f: %s); Ctrl+C stops\n",
		rest[0], e.Manifest().Name, e.Manifest().Version, th.Pass, th.Reject, thresholdSource(inForce != nil, thf.given()))
	return w.Run(ctx)
}

// thresholdSource says where a run's thresholds come from: following the
// trail's in force, the run's own flags, or the model's defaults.
func thresholdSource(following, own bool) string {
	switch {
	case following:
		return "in force in the trail, followed as a supervisor changes them"
	case own:
		return "this run's own"
	}
	return "the model's defaults: no trail"
}
