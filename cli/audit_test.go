package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// When this variable is set the test binary acts as `steelinspect scan`,
// so the kill test can SIGKILL a real batch in its own process.
const childArgsEnv = "STEELINSPECT_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		os.Exit(Run(strings.Split(args, "\x1f"), Env{Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// TestKillDuringBatchLosesNothing kills a scanning batch with SIGKILL at
// several moments and checks that every strip it reported done is in the
// audit database, and that the database is intact.
func TestKillDuringBatchLosesNothing(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "strips")
	for i := 0; i < 40; i++ {
		writeStrip(t, filepath.Join(imgs, fmt.Sprintf("s%03d.png", i)), 0, i*40, 255)
	}
	db := filepath.Join(dir, "audit.db")
	total := 0
	for round, killAfter := range []int{1, 7, 19} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join([]string{"scan", "--audit", "--db", db, "--model", tinyModel, imgs}, "\x1f"))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var done []string
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for len(done) < killAfter && sc.Scan() {
			var r verdict.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("child output %q: %v", sc.Text(), err)
			}
			done = append(done, r.Path)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if len(done) < killAfter {
			t.Fatalf("round %d: child printed only %d records", round, len(done))
		}
		store, err := audit.Open(db)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		if err := store.Check(context.Background()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		rows, err := store.History(context.Background(), audit.Query{})
		store.Close()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]int{}
		for _, r := range rows[total:] {
			have[r.Path]++
		}
		for _, p := range done {
			if have[p] == 0 {
				t.Errorf("round %d: %s was reported done but is not in the audit trail", round, p)
			}
		}
		if len(rows)-total < len(done) {
			t.Errorf("round %d: %d new rows for %d reported records", round, len(rows)-total, len(done))
		}
		total = len(rows)
	}
}

func TestHistoryExport(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255)
	db := filepath.Join(dir, "audit.db")
	if code, _, stderr := run(t, "scan", "--audit", "--db", db, "--model", tinyModel, filepath.Join(dir, "img")); code != 0 {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	code, stdout, stderr := run(t, "history", "--db", db, "--since", "1h", "--format", "csv")
	if code != 0 {
		t.Fatalf("history: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv %v: %q", err, stdout)
	}
	if !strings.HasSuffix(rows[1][3], "black.png") || rows[1][15] != "PASS" || rows[2][15] != "REJECT" || rows[2][8] != "tiny-nchw" {
		t.Errorf("rows %v", rows)
	}
	code, stdout, _ = run(t, "history", "--db", db, "--decision", "reject", "--format", "jsonl")
	if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, `"final_decision":"REJECT"`) {
		t.Errorf("jsonl REJECT filter: %d %q", code, stdout)
	}
	code, stdout, _ = run(t, "history", "--db", db, "--since", "2999-01-01")
	if code != 0 || strings.Count(stdout, "\n") != 1 {
		t.Errorf("future filter should give only the header: %q", stdout)
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--decision", "MAYBE"}, {"--format", "xml"}} {
		if code, _, _ := run(t, append([]string{"history", "--db", db}, bad...)...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

// TestHistoryVerify: history verify says an untouched trail is intact
// (exit 0), names a row changed with SQL (exit 1), and checks an exported
// chain away from the database.
func TestHistoryVerify(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "black.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "white.png"), 0, 1600, 255)
	db := filepath.Join(dir, "audit.db")
	if code, _, stderr := run(t, "scan", "--audit", "--db", db, "--model", tinyModel, filepath.Join(dir, "img")); code != 0 {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	code, stdout, stderr := run(t, "history", "verify", "--db", db)
	if code != 0 || !strings.Contains(stdout, "audit trail intact") || !strings.Contains(stdout, "2 inspections") {
		t.Fatalf("verify: %d %q %q", code, stdout, stderr)
	}
	code, chain, _ := run(t, "history", "--db", db, "--format", "chain")
	if code != 0 || strings.Count(chain, "\n") != 2 {
		t.Fatalf("chain export: %d %q", code, chain)
	}
	chainFile := filepath.Join(dir, "chain.jsonl")
	if err := os.WriteFile(chainFile, []byte(chain), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := run(t, "history", "verify", "--chain", chainFile); code != 0 || !strings.Contains(stdout, "intact") {
		t.Errorf("verify --chain: %d %q", code, stdout)
	}
	// the REJECT made a PASS behind the station's back
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE inspections SET auto_decision = 'PASS' WHERE auto_decision = 'REJECT'`); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = run(t, "history", "verify", "--db", db)
	if code != ExitFailure || !strings.Contains(stdout, "NOT intact") || !strings.Contains(stdout, "inspection 2 was changed after it was recorded") {
		t.Errorf("verify after tampering: %d %q", code, stdout)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"8h":  now.Add(-8 * time.Hour),
		"2d":  now.AddDate(0, 0, -2),
		"30m": now.Add(-30 * time.Minute),
	}
	for in, want := range cases {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if got, err := parseWhen("2026-11-01", now); err != nil || got.Day() != 1 || got.Month() != 11 {
		t.Errorf("date: %v %v", got, err)
	}
}

// TestHistoryHead: history head prints SEQ:HASH; verify --head fails once
// the chain no longer reaches it (the newest rows deleted with their
// entries and the chain's counter put back), and refuses a malformed head.
func TestHistoryHead(t *testing.T) {
	dir := t.TempDir()
	writeStrip(t, filepath.Join(dir, "img", "a.png"), 0, 0, 0)
	writeStrip(t, filepath.Join(dir, "img", "b.png"), 0, 1600, 255)
	db := filepath.Join(dir, "audit.db")
	if code, _, stderr := run(t, "scan", "--audit", "--db", db, "--model", tinyModel, filepath.Join(dir, "img")); code != 0 {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	code, head, _ := run(t, "history", "head", "--db", db)
	head = strings.TrimSpace(head)
	if code != 0 || !strings.HasPrefix(head, "2:") || len(head) != 2+64 {
		t.Fatalf("history head: %d %q", code, head)
	}
	if code, stdout, _ := run(t, "history", "verify", "--db", db, "--head", head); code != 0 || !strings.Contains(stdout, "intact") {
		t.Fatalf("verify --head on the untouched trail: %d %q", code, stdout)
	}
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DELETE FROM inspections WHERE id = 2`, `DELETE FROM chain WHERE seq = 2`, `UPDATE sqlite_sequence SET seq = 1 WHERE name = 'chain'`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, _ := run(t, "history", "verify", "--db", db); code != 0 {
		t.Fatalf("a cleanly cut chain holds on its own: %d %q", code, stdout)
	}
	if code, stdout, _ := run(t, "history", "verify", "--db", db, "--head", head); code != ExitFailure || !strings.Contains(stdout, "no longer reaches the head kept earlier") {
		t.Errorf("verify --head after the newest strip was deleted: %d %q", code, stdout)
	}
	if code, _, stderr := run(t, "history", "verify", "--db", db, "--head", "nonsense"); code != ExitUsage || !strings.Contains(stderr, "not a chain head") {
		t.Errorf("malformed --head: %d %q", code, stderr)
	}
}
