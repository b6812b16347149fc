package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/central"
	"steelinspect/internal/testbroker"
	"steelinspect/internal/testpg"

	"github.com/jackc/pgx/v5"
)

// TestScanPublishesToMQTT: scan --mqtt records and publishes every strip
// to a real broker before it exits; with a wrong password it exits 1
// saying what waits, and a later run with the right one sends it.
func TestScanPublishesToMQTT(t *testing.T) {
	b := testbroker.Start(t)
	sub := testbroker.Subscribe(t, b, "mes", "steelinspect/#")
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255)
	db := filepath.Join(dir, "audit.db")
	good, bad := filepath.Join(dir, "pw"), filepath.Join(dir, "bad-pw")
	os.WriteFile(good, []byte(testbroker.Password+"\n"), 0o600)
	os.WriteFile(bad, []byte("nope\n"), 0o600)
	args := func(pw string, more ...string) []string {
		return append([]string{"scan", "--db", db, "--model", tinyModel, "--mqtt", b.URL(), "--mqtt-user", testbroker.User,
			"--mqtt-password-file", pw, "--station", "line3"}, more...)
	}

	// wrong password: recorded, not delivered, said in one line
	code, _, stderr := run(t, args(bad, "--line-wait", "1s", filepath.Join(dir, "img", "black.png"))...)
	if code != ExitFailure || !strings.Contains(stderr, "1 trail entries not yet delivered") ||
		!strings.Contains(stderr, "refused the user name or password") {
		t.Fatalf("wrong password: exit %d, %q", code, stderr)
	}
	if n := len(sub.Payloads("/result")); n != 0 {
		t.Fatalf("%d results published with a refused login", n)
	}

	// right password: the queued strip first, then this run's
	code, _, stderr = run(t, args(good, filepath.Join(dir, "img", "white.png"))...)
	if code != 0 {
		t.Fatalf("scan --mqtt: exit %d %s", code, stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sub.Payloads("/result")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	var paths, finals []string
	for _, p := range sub.Payloads("/result") {
		var r struct {
			Station, Path string
			Final         string `json:"final_decision"`
		}
		json.Unmarshal(p, &r)
		if r.Station != "line3" {
			t.Errorf("station %q", r.Station)
		}
		paths, finals = append(paths, filepath.Base(r.Path)), append(finals, r.Final)
	}
	if strings.Join(paths, ",") != "black.png,white.png" || strings.Join(finals, ",") != "PASS,REJECT" {
		t.Errorf("published %v %v, want black.png PASS then white.png REJECT", paths, finals)
	}
	if !strings.Contains(string(sub.Last("steelinspect/line3/state")), `"state":"offline"`) {
		t.Errorf("state after the scan: %s", sub.Last("steelinspect/line3/state"))
	}
	// MQTT options without --mqtt are a usage error
	if code, _, _ := run(t, "scan", "--station", "x", filepath.Join(dir, "img")); code != ExitUsage {
		t.Errorf("--station without --mqtt: exit %d", code)
	}
}

// TestOPCUAFlags: --opcua reads the audit trail (refused with --no-audit),
// and an address already in use stops the command before it serves.
func TestOPCUAFlags(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "watch", dir, "--no-audit", "--opcua", "127.0.0.1:4840"); code != ExitUsage || !strings.Contains(stderr, "read the audit trail") {
		t.Errorf("--opcua with --no-audit: exit %d %q", code, stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := run(t, "serve", "--db", filepath.Join(dir, "audit.db"), "--model", tinyModel, "--addr", "127.0.0.1:0",
		"--opcua", l.Addr().String())
	if code != ExitFailure || !strings.Contains(stderr, "opcua:") {
		t.Errorf("--opcua on a port in use: exit %d %q", code, stderr)
	}
}

// TestScanArchive: scan --archive keeps the REJECT strip read from its
// file (not the PASS one), and history exports where the copy is.
func TestScanArchive(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255)
	db, arch := filepath.Join(dir, "audit.db"), filepath.Join(dir, "archive")
	if code, _, stderr := run(t, "scan", "--audit", "--db", db, "--model", tinyModel, "--archive", arch, "--retention-days", "90",
		filepath.Join(dir, "img")); code != 0 {
		t.Fatalf("scan --archive: %d %s", code, stderr)
	}
	copies, _ := filepath.Glob(filepath.Join(arch, "*", "*"))
	if len(copies) != 2 || !strings.HasSuffix(copies[0], "-white.png") && !strings.HasSuffix(copies[1], "-white.png") {
		t.Errorf("archive holds %v, want the white strip and its report", copies)
	}
	code, out, _ := run(t, "history", "--db", db, "--decision", "REJECT", "--format", "jsonl")
	if code != 0 || !strings.Contains(out, `"archive_path":"`+arch) || !strings.Contains(out, `"archive_sha256":"`) {
		t.Errorf("history: %q", out)
	}
	if code, _, _ := run(t, "scan", "--retention-days", "3", filepath.Join(dir, "img")); code != ExitUsage {
		t.Errorf("--retention-days without --archive: exit %d", code)
	}
	if code, _, _ := run(t, "scan", "--archive", arch, "--archive-quota", "lots", filepath.Join(dir, "img")); code != ExitUsage {
		t.Errorf("--archive-quota lots: exit %d", code)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "500GB": 500e9, "20GiB": 20 << 30, "1.5 MB": 1_500_000, "4096": 4096, "2TiB": 2 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "-5GB", "1e30TB", "GB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// TestUsersCommand: the first admin is made on the command line; list
// shows roles; a bad role or no password is a usage error.
func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("admin-pw-1\n"), 0o600)
	if code, _, stderr := run(t, "users", "add", "ada", "--role", "admin", "--db", db, "--password-file", pw); code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	run(t, "users", "add", "bob", "--role", "operator", "--db", db, "--password-file", pw)
	run(t, "users", "disable", "bob", "--db", db)
	code, out, _ := run(t, "users", "list", "--db", db)
	if code != 0 || out != "ada\tadmin\nbob\toperator (disabled)\n" {
		t.Errorf("users list: %d %q", code, out)
	}
	for _, bad := range [][]string{{"add", "eve", "--role", "boss", "--password-file", pw}, {"add", "eve", "--password-file", pw}, {"frobnicate", "x"}, {"add"}} {
		if code, _, _ := run(t, append(append([]string{"users"}, bad...), "--db", db)...); code != ExitUsage && code != ExitFailure {
			t.Errorf("users %v: exit %d", bad, code)
		}
	}
	if code, _, _ := run(t, "users", "free-text", "on", "--db", db); code != 0 {
		t.Errorf("users free-text on: exit %d", code)
	}
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if s, _ := store.LatestSettings(context.Background()); s[audit.SettingOperatorFreeText] != "on" {
		t.Errorf("free text setting %v", s)
	}
	if u, err := store.SignIn(context.Background(), "ada", "admin-pw-1", audit.EventSignIn, ""); err != nil || u.Role != "admin" {
		t.Errorf("ada signs in: %+v %v", u, err)
	}
}

// TestScanForwardsToCentral: scan --central forwards what it recorded to
// a real PostgreSQL before it exits; with a wrong password it exits 1
// saying what waits, and the next run forwards it.
func TestScanForwardsToCentral(t *testing.T) {
	pg := testpg.Start(t)
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255)
	db := filepath.Join(dir, "audit.db")
	code, _, stderr := run(t, "scan", "--db", db, "--model", tinyModel, "--central", pg.URL("wrong"), "--station", "line9",
		"--line-wait", "1s", filepath.Join(dir, "img", "black.png"))
	if code != ExitFailure || !strings.Contains(stderr, "1 trail entries not yet forwarded") || !strings.Contains(stderr, "refused the user name or password") {
		t.Fatalf("wrong password: exit %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "scan", "--db", db, "--model", tinyModel, "--central", pg.URL(testpg.Password), "--station", "line9",
		"--line", "line 9", filepath.Join(dir, "img", "white.png")); code != 0 {
		t.Fatalf("scan --central: %d %s", code, stderr)
	}
	conn, err := pgx.Connect(context.Background(), pg.URL(testpg.Password))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	v, err := central.VerifyStation(context.Background(), conn, "line9")
	if err != nil || len(v.Problems) != 0 || v.ByKind["inspection"] != 2 {
		t.Errorf("central copy: %v %+v", err, v)
	}
	// the plant-wide history
	code, out, stderr := run(t, "history", "--central", pg.URL(testpg.Password), "--station", "line9", "--decision", "REJECT", "--format", "jsonl")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"station":"line9"`) || !strings.Contains(out, "white.png") {
		t.Errorf("history --central: %d %q %s", code, out, stderr)
	}
	code, out, _ = run(t, "history", "--central", pg.URL(testpg.Password), "--line", "line 9", "--format", "jsonl")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("history --central --line: %d %q", code, out)
	}
	if code, out, _ = run(t, "history", "--central", pg.URL(testpg.Password), "--line", "line 1"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("history --central --line (another line): %d %q, want the CSV header alone", code, out)
	}
	code, out, _ = run(t, "history", "verify", "--central", pg.URL(testpg.Password))
	if code != 0 || !strings.Contains(out, "audit trail intact: station line9 in the central database: 2 entries") {
		t.Errorf("history verify --central: %d %q", code, out)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE trail SET payload = replace(payload, 'REJECT', 'PASS') WHERE station = 'line9'`); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = run(t, "history", "verify", "--central", pg.URL(testpg.Password), "--station", "line9"); code != ExitFailure ||
		!strings.Contains(out, "NOT intact") {
		t.Errorf("history verify --central after a change: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"history", "--station", "line9"},
		{"history", "--line", "line 9"},
		{"history", "--db", pg.URL(testpg.Password)},
		{"scan", "--model", tinyModel, "--line", "line 9", filepath.Join(dir, "img", "white.png")},
		{"serve", "--model", tinyModel, "--db", pg.URL(testpg.Password), "--mqtt", "tcp://127.0.0.1:1"},
	} {
		if code, _, stderr := run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d %s, want a usage error", args, code, stderr)
		}
	}
	// the plant report
	code, out, stderr = run(t, "report", "--central", pg.URL(testpg.Password), "--since", "1h")
	if code != 0 || !strings.Contains(out, "line9") || !strings.Contains(out, "sent to review") || !strings.Contains(out, "line 9  line9  ") {
		t.Errorf("report: %d %q %s", code, out, stderr)
	}
	code, out, _ = run(t, "report", "--central", pg.URL(testpg.Password), "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "station,line,shift,total,pass,review,reject") || !strings.Contains(out, "line9,") {
		t.Errorf("report csv: %d %q", code, out)
	}
	if code, _, _ := run(t, "report"); code != ExitUsage {
		t.Errorf("report without --central: exit %d", code)
	}
}

// TestUsersLockoutAndUnlock: users lockout N sets the number of failed
// sign-ins that locks a name, users unlock NAME lets it in again, and
// flags may come before the subcommand.
func TestUsersLockoutAndUnlock(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("sue-secret-1\n"), 0o600)
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("guess\n"), 0o600)
	if code, _, stderr := run(t, "users", "--db", db, "add", "sue", "--role", "supervisor", "--password-file", pw); code != 0 {
		t.Fatalf("users --db F add: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "users", "lockout", "3", "--db", db); code != 0 {
		t.Fatalf("users lockout 3: %d %s", code, stderr)
	}
	set := func(pwFile string) (int, string) {
		code, _, stderr := run(t, "settings", "set", "--pass", "0.35", "--user", "sue", "--password-file", pwFile, "--db", db)
		return code, stderr
	}
	for range 3 {
		set(wrong) // the third failure locks (no waits before the third)
	}
	if code, stderr := set(pw); code != ExitUsage || !strings.Contains(stderr, "locked after too many failed sign-ins") {
		t.Fatalf("locked supervisor with the right password: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "users", "unlock", "sue", "--db", db); code != 0 || !strings.Contains(stderr, "sue may sign in again") {
		t.Fatalf("users unlock: %d %q", code, stderr)
	}
	if code, stderr := set(pw); code != ExitOK {
		t.Errorf("after the unlock: %d %q", code, stderr)
	}
	for _, bad := range [][]string{{"lockout", "two"}, {"lockout", "1"}, {"unlock"}} {
		if code, _, _ := run(t, append(append([]string{"users"}, bad...), "--db", db)...); code == ExitOK {
			t.Errorf("users %v accepted", bad)
		}
	}
}
