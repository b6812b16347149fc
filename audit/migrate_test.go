package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"steelinspect/verdict"
)

// firstSchemaSQL is the trail as the first release wrote it: inspections
// only, the operator's review kept in the inspection row, no caution,
// familiarity or archive columns, no decisions, chain or users tables.
const firstSchemaSQL = `CREATE TABLE inspections (
	id INTEGER PRIMARY KEY AUTOINCREMENT, inspected_at TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
	sha256 TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, bytes INTEGER NOT NULL,
	model_name TEXT NOT NULL, model_version TEXT NOT NULL, model_sha256 TEXT NOT NULL,
	pass_threshold REAL NOT NULL, reject_threshold REAL NOT NULL, confidence REAL NOT NULL, mean_probability REAL NOT NULL,
	auto_decision TEXT NOT NULL, operator_decision TEXT, operator TEXT, reviewed_at TEXT, review_reason TEXT);`

// firstSchemaTrail is a trail of the first schema with two inspections,
// the first reviewed (REJECT by bob) in its row, at user_version 0; and
// the raw database behind it, as the sqlite3 shell would have it.
func firstSchemaTrail(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.Exec(firstSchemaSQL + `
		INSERT INTO inspections VALUES (1,'2026-01-01T08:00:00Z','scan','a.jpg','aa',1600,256,9,'m','1','bb',0.4,0.65,0.5,0.2,'REVIEW','REJECT','bob','2026-01-01T08:05:00Z',NULL);
		INSERT INTO inspections VALUES (2,'2026-01-01T08:01:00Z','scan','b.jpg','aa',1600,256,9,'m','1','bb',0.4,0.65,0.1,0.05,'PASS',NULL,NULL,NULL,NULL);`); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, raw); v != 0 {
		t.Fatalf("a hand-made trail has user_version %d", v)
	}
	return path, raw
}

// schemaWithoutAddedColumns is schema (the decisions table included)
// before the caution, familiarity and archive columns.
func schemaWithoutAddedColumns(t *testing.T) string {
	t.Helper()
	old := strings.Replace(schema, "review_reason    TEXT,\n\tcaution_kinds    TEXT,\n\tcautions         TEXT,\n\tfamiliarity      REAL,\n\tarchive_path     TEXT,\n\tarchive_sha256   TEXT\n", "review_reason    TEXT\n", 1)
	if old == schema {
		t.Fatal("could not make the old schema")
	}
	return old
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	v, err := schemaVersion(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// shape is each table of a database with its columns, in order.
func shape(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	return out
}

// withMigrations makes the schema's steps ms for the test.
func withMigrations(t *testing.T, ms ...migration) {
	t.Helper()
	was := migrations
	migrations = ms
	t.Cleanup(func() { migrations = was })
}

// TestNewFileVersion: a new file gets every step, and says so.
func TestNewFileVersion(t *testing.T) {
	s := openTemp(t)
	if v := userVersion(t, s.db); v != len(migrations) || v < 1 {
		t.Errorf("a new trail is at schema version %d, want %d", v, len(migrations))
	}
}

// TestEveryEarlierShapeMigrated: a trail of any shape from before the
// versions (all at user_version 0) opens at the newest version, with the
// tables and columns of a new file.
func TestEveryEarlierShapeMigrated(t *testing.T) {
	want := shape(t, openTemp(t).db)
	for name, ddl := range map[string]string{
		"first schema":            firstSchemaSQL,
		"decisions, no chain":     schemaWithoutAddedColumns(t),
		"chain, no users":         schema + chainSchema,
		"current, no version yet": schema + chainSchema + usersSchema,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			raw, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(ddl); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v := userVersion(t, s.db); v != len(migrations) {
				t.Errorf("schema version %d, want %d", v, len(migrations))
			}
			got := shape(t, s.db)
			for table, cols := range want {
				if !slices.Equal(got[table], cols) {
					t.Errorf("table %s has %v, want %v", table, got[table], cols)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d tables, want %d", len(got), len(want))
			}
		})
	}
}

// TestFirstSchemaMigrated: the first schema's trail gains the columns,
// its in-row review becomes a decision, its rows are chained and verify;
// opened again, no step runs again.
func TestFirstSchemaMigrated(t *testing.T) {
	path, raw := firstSchemaTrail(t)
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, s.db); v != len(migrations) {
		t.Errorf("schema version %d, want %d", v, len(migrations))
	}
	cols := shape(t, s.db)["inspections"]
	for _, c := range addedColumns {
		if !slices.Contains(cols, c.name) {
			t.Errorf("inspections lacks %s: %v", c.name, cols)
		}
	}
	d, err := s.Decisions(ctx, 1)
	if err != nil || len(d) != 1 || d[0].Kind != "review" || !d[0].Decision.Is(verdict.Reject) || d[0].Operator != "bob" {
		t.Errorf("the in-row review as decisions: %+v %v", d, err)
	}
	v := verify(t, s)
	// three rows adopted, and the adoption itself recorded
	if len(v.Problems) != 0 || v.Entries != 4 || v.ByKind["access"] != 1 || !strings.Contains(v.Adopted, "3 rows written before the hash chain existed") {
		t.Errorf("migrated trail: %+v", v)
	}
	s.Close()

	// A table the baseline creates, dropped behind its back, stays gone:
	// the step does not run again on the next open.
	if _, err := raw.Exec(`DROP TABLE users`); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v2 := verify(t, s); v2.Entries != v.Entries || v2.Head != v.Head {
		t.Errorf("reopened: %d entries, head %s; was %d, %s", v2.Entries, v2.Head, v.Entries, v.Head)
	}
	if n := userVersion(t, s.db); n != len(migrations) {
		t.Errorf("reopened at schema version %d, want %d", n, len(migrations))
	}
	if _, ok := shape(t, s.db)["users"]; ok {
		t.Error("reopening ran the baseline again")
	}
}

// TestNewerSchemaRefused: a file from a newer steelinspect is refused in
// one line that says so, and left as it was.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newer := len(migrations) + 1
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	want := fmt.Sprintf("audit database %s was written by a newer steelinspect (schema version %d, this one knows %d)", path, newer, len(migrations))
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("opening a newer trail: %v, want one line starting %q", err, want)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if v := userVersion(t, raw); v != newer {
		t.Errorf("the refused file is at schema version %d now, was %d", v, newer)
	}
}

// TestStepIsOneTransaction: a step that fails leaves nothing of itself,
// and the version where it was; the next open tries it again.
func TestStepIsOneTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	known := len(migrations)
	fail := true
	withMigrations(t, append(slices.Clone(migrations), migration{"test step", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE step_two (x TEXT)`); err != nil {
			return err
		}
		if fail {
			return errors.New("half done")
		}
		return nil
	}})...)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d (test step): half done", known+1)) {
		t.Fatalf("a failing step: %v", err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, ok := shape(t, raw)["step_two"]; ok || userVersion(t, raw) != known {
		t.Fatalf("a failed step left its table (%v) or version %d", ok, userVersion(t, raw))
	}
	fail = false
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := shape(t, s.db)["step_two"]; !ok || userVersion(t, s.db) != known+1 {
		t.Errorf("the step applied later: table %v, version %d", ok, userVersion(t, s.db))
	}
}

// TestConcurrentOpenAppliesOnce: stores opening the same new file at once
// (as two processes starting together) all open, and each step is
// applied once (the test's last step would fail a second time). Some
// rounds, for the moment one creates the file to fall on another's.
func TestConcurrentOpenAppliesOnce(t *testing.T) {
	var ms []migration
	ran := make([]atomic.Int32, len(migrations)+1)
	for k, m := range migrations {
		ms = append(ms, migration{m.what, func(ctx context.Context, tx *sql.Tx) error {
			ran[k].Add(1)
			return m.up(ctx, tx)
		}})
	}
	withMigrations(t, append(ms, migration{"test step", func(ctx context.Context, tx *sql.Tx) error {
		ran[len(ms)].Add(1)
		_, err := tx.ExecContext(ctx, `CREATE TABLE step_two (x TEXT)`) // no IF NOT EXISTS
		return err
	}})...)
	for round := range 10 {
		for k := range ran {
			ran[k].Store(0)
		}
		stores := openAtOnce(t, filepath.Join(t.TempDir(), "audit.db"), 4)
		for k := range ran {
			if n := ran[k].Load(); n != 1 {
				t.Errorf("round %d: step %d ran %d times, want once", round, k+1, n)
			}
		}
		if v := userVersion(t, stores[0].db); v != len(migrations) {
			t.Errorf("round %d: schema version %d, want %d", round, v, len(migrations))
		}
		if _, err := stores[1].Add(context.Background(), sample("a.jpg", verdict.Pass, 0.1)); err != nil {
			t.Fatal(err)
		}
	}
}

// openAtOnce opens n stores on path at the same time.
func openAtOnce(t *testing.T, path string, n int) []*Store {
	t.Helper()
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[k], errs[k] = Open(path)
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err == nil {
			t.Cleanup(func() { stores[k].Close() })
		}
	}
	for k, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", k, err)
		}
	}
	return stores
}

// TestBaselineAdoptsWhatTheTrailHas: a later release that chains another
// table or column (added by a later step) still adopts a first-schema
// trail in the baseline, which chains what the trail has at the time.
func TestBaselineAdoptsWhatTheTrailHas(t *testing.T) {
	was := chainTables
	t.Cleanup(func() { chainTables = was })
	chainTables = slices.Clone(chainTables)
	chainTables[0].columns = append(slices.Clone(chainTables[0].columns), "later_column")
	chainTables = append(chainTables, chainTable{"later", "later_rows", []string{"id", "what"}, ""})
	path, _ := firstSchemaTrail(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries, err := s.Chain(context.Background())
	if err != nil || len(entries) != 4 || entries[3].Kind != "access" || !strings.Contains(entries[3].Payload, EventChainAdopted) {
		t.Fatalf("adopted %d entries, want 3 and the adoption's record: %v", len(entries), err)
	}
	if strings.Contains(entries[0].Payload, "later_column") {
		t.Errorf("adopted a column the trail lacks: %s", entries[0].Payload)
	}
}
