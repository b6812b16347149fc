package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/central"
	"steelinspect/internal/testpg"
	"steelinspect/verdict"
)

// TestHistoryRetire: history retire archives a station's months past
// retention as chain files, which history verify --chain --after checks,
// drops them from the central database, whose copy still verifies; the
// month in progress is refused.
func TestHistoryRetire(t *testing.T) {
	pg := testpg.Start(t)
	url := pg.URL(testpg.Password)
	ctx := context.Background()
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	m0 := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for k, at := range []time.Time{m0.AddDate(0, -3, 2), m0.AddDate(0, -2, 2), m0.Add(time.Minute)} {
		if _, err := store.Add(ctx, audit.Inspection{InspectedAt: at, Source: "watch", Path: fmt.Sprintf("%d.png", k), ModelName: "m",
			ModelVersion: "1", AutoDecision: verdict.Reject}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := central.New(url, "line 3/a", "", store)
	if err != nil {
		t.Fatal(err)
	}
	stop := runInBackground(f.Run)
	drain, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = f.Drain(drain)
	cancel()
	stop()
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if code, _, stderr := run(t, "history", "retire", "--central", url, "--before", m0.AddDate(0, 0, 1).Format("2006-01-02"), "--out", dir); code != ExitUsage ||
		!strings.Contains(stderr, "month in progress") {
		t.Errorf("retiring the month in progress: %d %s", code, stderr)
	}
	code, out, stderr := run(t, "history", "retire", "--central", url, "--before", m0.AddDate(0, -1, 0).Format("2006-01-02"), "--out", dir)
	if code != 0 || strings.Count(out, "retired ") != 2 {
		t.Fatalf("history retire: %d %q %s", code, out, stderr)
	}
	checks := regexp.MustCompile(`--chain (\S+)(?: --after (\S+))?\n`).FindAllStringSubmatch(out, -1)
	if len(checks) != 2 || !strings.Contains(checks[0][1], filepath.Join(dir, "line%203%2Fa")) {
		t.Fatalf("archives %v in %q", checks, out)
	}
	for _, c := range checks {
		args := []string{"history", "verify", "--chain", c[1]}
		if c[2] != "" {
			args = append(args, "--after", c[2])
		}
		if code, vout, _ := run(t, args...); code != 0 || !strings.Contains(vout, "1 entries (1 inspections") {
			t.Errorf("verify %s: %d %q", c[1], code, vout)
		}
		if code, _, _ := run(t, "history", "verify", "--chain", c[1]); c[2] != "" && code != ExitFailure {
			t.Errorf("verify %s without --after: exit %d, want a broken first link", c[1], code)
		}
	}
	if code, vout, _ := run(t, "history", "verify", "--central", url); code != 0 || !strings.Contains(vout, "1 entries") {
		t.Errorf("verify --central after retiring: %d %q", code, vout)
	}
	if code, hout, _ := run(t, "history", "--central", url, "--format", "jsonl"); code != 0 || strings.Count(hout, "\n") != 1 {
		t.Errorf("history after retiring: %d %q", code, hout)
	}
}

// TestChainExportPages: history --format chain reads the chain a page at
// a time; the pages add up to the whole chain, in order, once each.
func TestChainExportPages(t *testing.T) {
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for k := range 5 {
		if _, err := store.Add(context.Background(), audit.Inspection{Source: "scan", Path: fmt.Sprintf("%d.png", k), ModelName: "m",
			ModelVersion: "1", AutoDecision: verdict.Pass}); err != nil {
			t.Fatal(err)
		}
	}
	whole, _ := store.Chain(context.Background())
	var want strings.Builder
	audit.WriteChain(&want, whole)
	for _, page := range []int{1, 2, 5, 6} {
		var got strings.Builder
		if err := writeChain(Env{Stdout: &got}, store, page); err != nil || got.String() != want.String() {
			t.Errorf("page %d: %v\n%s\nwant\n%s", page, err, got.String(), want.String())
		}
	}
}

// runInBackground runs run until stop is called; stop cancels it and
// waits for it to return.
func runInBackground(run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() { cancel(); <-done }
}
