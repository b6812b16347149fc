package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// stationWithUsers makes a trail with a supervisor "sue" and an operator
// "otto", and their password files.
func stationWithUsers(t *testing.T) (db, supPW, opPW string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "audit.db")
	supPW, opPW = filepath.Join(dir, "sue.pw"), filepath.Join(dir, "otto.pw")
	os.WriteFile(supPW, []byte("sue-secret-1\n"), 0o600)
	os.WriteFile(opPW, []byte("otto-secret-1\n"), 0o600)
	if code, _, stderr := run(t, "users", "add", "sue", "--role", "supervisor", "--db", db, "--password-file", supPW); code != 0 {
		t.Fatalf("users add sue: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "users", "add", "otto", "--role", "operator", "--db", db, "--password-file", opPW); code != 0 {
		t.Fatalf("users add otto: %d %s", code, stderr)
	}
	return db, supPW, opPW
}

// scanRecord scans one strip with args and returns its record.
func scanRecord(t *testing.T, strip string, args ...string) verdict.Record {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"scan", "--model", tinyModel, strip}, args...)...)
	if code != ExitOK {
		t.Fatalf("scan %v: exit %d %s", args, code, stderr)
	}
	var r verdict.Record
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r); err != nil {
		t.Fatalf("scan output %q: %v", stdout, err)
	}
	return r
}

// TestHeadlessDecidesWithTheThresholdsInForce: thresholds a supervisor
// recorded (settings set, as the window's Unlock records them) are the
// ones scan --audit decides with; before, a strip scoring 0.35 was
// auto-passed with the model's 0.40 whatever the trail said.
func TestHeadlessDecidesWithTheThresholdsInForce(t *testing.T) {
	db, supPW, _ := stationWithUsers(t)
	strip := filepath.Join(t.TempDir(), "s.png")
	writeStrip(t, strip, 0, 1600, 90) // every patch 90/255 = 0.35

	if r := scanRecord(t, strip, "--audit", "--db", db); !r.Decision.Is(verdict.Pass) || r.Thresholds != verdict.DefaultThresholds {
		t.Fatalf("nothing recorded: want PASS at the model's 0.40/0.65, got %s at %+v", r.Decision, r.Thresholds)
	}
	code, _, stderr := run(t, "settings", "set", "--pass", "0.30", "--reject", "0.50", "--user", "sue", "--password-file", supPW, "--db", db)
	if code != ExitOK || !strings.Contains(stderr, "pass 0.30, reject 0.50 in force") {
		t.Fatalf("settings set: exit %d %q", code, stderr)
	}
	code, stdout, _ := run(t, "settings", "show", "--db", db)
	if code != ExitOK || !strings.Contains(stdout, "pass 0.30, reject 0.50: recorded by sue (command line)") {
		t.Errorf("settings show: exit %d %q", code, stdout)
	}
	if r := scanRecord(t, strip, "--audit", "--db", db); !r.Decision.Is(verdict.Review) || r.Thresholds.Pass != 0.30 || r.Thresholds.Reject != 0.50 {
		t.Errorf("after the change: want REVIEW at 0.30/0.50, got %s at %+v", r.Decision, r.Thresholds)
	}
	// scan without --audit records nothing and stays free: the model's defaults, or its flags
	if r := scanRecord(t, strip); !r.Decision.Is(verdict.Pass) {
		t.Errorf("scan without --audit: %s", r.Decision)
	}
	if r := scanRecord(t, strip, "--pass", "0.2", "--reject", "0.3"); !r.Decision.Is(verdict.Reject) {
		t.Errorf("scan without --audit, own thresholds: %s", r.Decision)
	}
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	changes, _ := store.SettingChanges(context.Background())
	if len(changes) != 2 || changes[0].ChangedBy != "sue (command line)" || changes[0].NewValue != "0.30" || changes[1].NewValue != "0.50" {
		t.Errorf("recorded changes %+v", changes)
	}
}

// TestThresholdFlagsNeedASupervisor: on a station with users, --pass and
// --reject with the trail need a supervisor's sign-in (exit 2 otherwise,
// one line), and settings set refuses operators, wrong passwords and
// pairs outside the station's ranges; each attempt is in the trail.
func TestThresholdFlagsNeedASupervisor(t *testing.T) {
	db, supPW, opPW := stationWithUsers(t)
	strip := filepath.Join(t.TempDir(), "s.png")
	writeStrip(t, strip, 0, 1600, 90)
	wrongPW := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPW, []byte("guess\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--model", tinyModel, strip, "--audit", "--db", db, "--pass", "0.45"}, "need a supervisor's sign-in"},
		{[]string{"scan", "--model", tinyModel, strip, "--audit", "--db", db, "--pass", "0.45", "--user", "otto", "--password-file", opPW}, "otto is an operator"},
		{[]string{"watch", t.TempDir(), "--model", tinyModel, "--db", db, "--reject", "0.9"}, "need a supervisor's sign-in"},
		{[]string{"settings", "set", "--pass", "0.45", "--user", "sue", "--password-file", wrongPW, "--db", db}, "Unknown user or wrong password."},
		{[]string{"settings", "set", "--pass", "0.45", "--user", "otto", "--password-file", opPW, "--db", db}, "otto is an operator"},
		{[]string{"settings", "set", "--pass", "0.05", "--user", "sue", "--password-file", supPW, "--db", db}, "outside the station's range"},
		{[]string{"settings", "set", "--user", "sue", "--password-file", supPW, "--db", db}, "needs --pass, --reject or both"},
		{[]string{"settings", "set", "--pass", "0.45", "--db", db}, "give --user NAME"},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", c.args[:1], code, stderr, stdout, c.want)
		}
	}
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if changes, _ := store.SettingChanges(ctx); len(changes) != 0 {
		t.Errorf("a refused change was recorded: %+v", changes)
	}
	events, _ := store.AccessEvents(ctx)
	kinds := map[string]int{}
	for _, e := range events {
		kinds[e.Event]++
	}
	if kinds[audit.EventFailed] != 1 || kinds["unlock_refused"] != 2 {
		t.Errorf("the refused attempts should be in the trail: %v", kinds)
	}
	store.Close()

	// a supervisor may decide one run with its own pair; the trail says who and what
	r := scanRecord(t, strip, "--audit", "--db", db, "--pass", "0.45", "--user", "sue", "--password-file", supPW)
	if r.Thresholds.Pass != 0.45 || !r.Decision.Is(verdict.Pass) {
		t.Errorf("supervisor's own pass 0.45: %s at %+v", r.Decision, r.Thresholds)
	}
	store, _ = audit.Open(db)
	defer store.Close()
	events, _ = store.AccessEvents(ctx)
	if last := events[len(events)-1]; last.User != "sue" || last.Event != audit.EventUnlock || !strings.Contains(last.Detail, "this run of scan with pass 0.45") {
		t.Errorf("last access event %+v", last)
	}
}

// TestMQTTStateFollowsTheThresholdsInForce: the state message watch and
// serve publish carries the thresholds in force when it is sent, so a
// supervisor's change reaches the line's retained state (it carried the
// pair of the start).
func TestMQTTStateFollowsTheThresholdsInForce(t *testing.T) {
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m := &inference.Manifest{DefaultThresholds: verdict.DefaultThresholds}
	state := station.StateFollowing(verdict.ModelIdentity{Name: "m"}, verdict.DefaultThresholds, station.FollowInForce(store, m.DefaultThresholds))
	if s := state(); s.Thresholds != verdict.DefaultThresholds || s.Model.Name != "m" {
		t.Fatalf("before any change: %+v", s)
	}
	ctx := context.Background()
	want := verdict.Thresholds{Pass: 0.30, Reject: 0.55}
	if err := station.RecordThresholds(ctx, store, "sue", station.InForce{Thresholds: verdict.DefaultThresholds}, want); err != nil {
		t.Fatal(err)
	}
	if s := state(); s.Thresholds != want {
		t.Errorf("after the supervisor's change the state says %+v, want %+v", s.Thresholds, want)
	}
	if s := station.StateFollowing(verdict.ModelIdentity{}, want, nil)(); s.Thresholds != want {
		t.Errorf("a run's own pair: %+v", s.Thresholds)
	}
}

// TestSettingsWithoutASupervisor: a station with no supervisor keeps its
// thresholds, as the window keeps them locked; show says the defaults
// are in force.
func TestSettingsWithoutASupervisor(t *testing.T) {
	db := filepath.Join(t.TempDir(), "audit.db")
	code, stdout, _ := run(t, "settings", "show", "--db", db)
	if code != ExitOK || !strings.Contains(stdout, "none recorded") {
		t.Errorf("show on a new trail: %d %q", code, stdout)
	}
	code, _, stderr := run(t, "settings", "set", "--pass", "0.3", "--user", "x", "--db", db)
	if code != ExitUsage || !strings.Contains(stderr, "no supervisor or admin exists") {
		t.Errorf("set without a supervisor: %d %q", code, stderr)
	}
	if code, _, _ := run(t, "settings", "frobnicate"); code != ExitUsage {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}
