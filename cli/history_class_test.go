package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// TestHistoryCarriesTheDefectClass (issue 28): a strip recorded with its
// most likely defect class shows it in history's CSV (defect_class, the
// last columns) and JSONL; the chain export holds the class entry and
// verifies away from the station; a class changed with SQL fails verify.
func TestHistoryCarriesTheDefectClass(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	in := audit.Inspection{Source: "scan", Path: "/line/a.png", SHA256: strings.Repeat("a", 64), Width: 1600, Height: 256,
		ModelName: "station", ModelVersion: "1", ModelSHA256: strings.Repeat("b", 64), PassThreshold: 0.3, RejectThreshold: 0.7,
		Confidence: 0.9, MeanProbability: 0.4, AutoDecision: verdict.Reject, DefectClass: "class 3", DefectPatches: 2}
	if _, err := store.Add(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	store.Close()

	code, stdout, stderr := run(t, "history", "--db", db, "--format", "csv")
	if code != 0 {
		t.Fatalf("history: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv %v: %q", err, stdout)
	}
	n := len(rows[0])
	if rows[0][n-2] != "defect_class" || rows[1][n-2] != "class 3" || rows[0][n-1] != "defect_patches" || rows[1][n-1] != "2" {
		t.Errorf("csv header %v, row %v", rows[0], rows[1])
	}
	if code, stdout, _ = run(t, "history", "--db", db, "--format", "jsonl"); code != 0 || !strings.Contains(stdout, `"defect_class":"class 3"`) {
		t.Errorf("jsonl: %d %q", code, stdout)
	}
	code, chain, _ := run(t, "history", "--db", db, "--format", "chain")
	if code != 0 || strings.Count(chain, "\n") != 2 || !strings.Contains(chain, `"kind":"class"`) {
		t.Fatalf("chain export: %d %q", code, chain)
	}
	chainFile := filepath.Join(dir, "chain.jsonl")
	if err := os.WriteFile(chainFile, []byte(chain), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := run(t, "history", "verify", "--chain", chainFile); code != 0 || !strings.Contains(stdout, "intact") || !strings.Contains(stdout, "2 entries") {
		t.Errorf("verify --chain: %d %q", code, stdout)
	}
	if code, stdout, _ := run(t, "history", "verify", "--db", db); code != 0 || !strings.Contains(stdout, "audit trail intact") {
		t.Fatalf("verify: %d %q", code, stdout)
	}
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE inspection_classes SET class = 'class 1'`); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = run(t, "history", "verify", "--db", db)
	if code != ExitFailure || !strings.Contains(stdout, "class 1 was changed after it was recorded") {
		t.Errorf("verify after the class was changed: %d %q", code, stdout)
	}
}
