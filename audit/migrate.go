package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// The schema of the audit database is versioned: the file carries the
// number of migrations applied to it in SQLite's user_version (0 in a new
// file, and in every trail written before the versions). Open applies
// the missing ones in order, each in its own transaction together with
// the new version, so a step is applied entirely or not at all. A file
// whose version is higher than this program knows was written by a newer
// steelinspect and is refused.

// migration is one numbered step of the schema: migrations[k] takes a
// database from version k to version k+1.
type migration struct {
	what string // what it does, for an error applying it
	up   func(ctx context.Context, tx *sql.Tx) error
}

// migrations are the schema's steps, in order.
//
// To change the schema, append a step: a func that takes the database
// from the version before to the new shape (ALTER TABLE, CREATE TABLE,
// moving data) in the transaction it is given, with a test that opens a
// trail of the version before. Never edit, reorder or remove a step once
// a release has shipped with it: trails in the field have applied it as
// it was and will not apply it again. The CREATE statements in schema,
// chainSchema and usersSchema are the baseline's and are frozen with it:
// a new table or column goes into a new step only (a new file runs every
// step, so it gets it there), and a column or table to be chained also
// into chainTables (the baseline adopts only the chained tables and
// columns a trail has at the time).
var migrations = []migration{
	// 1: every trail written before the versions, whatever its shape (the
	// first schema; with decisions but no chain; without users), brought
	// to the shape of the release that introduced them.
	{"baseline", baseline},
	// 2: users and roles chained: every user's state, as of each change,
	// in user_changes, the users in the trail adopted as its first rows.
	{"users chained", chainUsers},
	// 3: where strips' files went (the hot folder's moves, and a person's
	// decision's), chained as "move" (moves.go).
	{"file moves chained", addFileMoves},
	// 4: the most likely defect class of an inspection, for a model that
	// gives classes, chained as "class" (classes.go); the inspections
	// table and its chained columns stay as they were.
	{"defect classes chained", addInspectionClasses},
}

// newerSchemaError: the file's schema version is one this program does
// not know.
type newerSchemaError struct{ have, know int }

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("was written by a newer steelinspect (schema version %d, this one knows %d): open it with that version or a later one", e.have, e.know)
}

// migrate brings the database up to the newest schema version, one step
// at a time. Each step runs in a write transaction (BEGIN IMMEDIATE: the
// DSN's _txlock) that reads the version again once it holds the lock, so
// of two processes opening the same file at once only one applies a step,
// and the other finds it applied. A database already current takes no
// write lock.
func migrate(ctx context.Context, db *sql.DB) error {
	v, err := firstVersion(ctx, db)
	if err != nil {
		return err
	}
	for v < len(migrations) {
		if v, err = migrateStep(ctx, db); err != nil {
			return err
		}
	}
	if v > len(migrations) {
		return &newerSchemaError{have: v, know: len(migrations)}
	}
	return nil
}

// migrateStep applies the next missing step, if any, and returns the
// version the database is at after it.
func migrateStep(ctx context.Context, db *sql.DB) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	v, err := schemaVersion(ctx, tx)
	if err != nil || v >= len(migrations) {
		return v, err // another process applied it meanwhile (or a newer one did more)
	}
	m := migrations[v]
	if err := m.up(ctx, tx); err != nil {
		return 0, fmt.Errorf("schema version %d (%s): %w", v+1, m.what, err)
	}
	// PRAGMA takes no parameters; v+1 is an int
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return 0, err
	}
	return v + 1, tx.Commit()
}

// firstVersion reads the schema version on the database's first
// connection. Connecting sets WAL mode (the DSN), which on a new file
// takes a lock that SQLite does not wait for (no busy handler): another
// process creating the same file at that moment gets SQLITE_BUSY at once.
// It is retried for as long as the busy timeout would have waited.
func firstVersion(ctx context.Context, db *sql.DB) (int, error) {
	deadline := time.Now().Add(busyWait)
	for {
		v, err := schemaVersion(ctx, db)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

const (
	busyWait   = 5 * time.Second // the DSN's busy_timeout
	sqliteBusy = 5               // SQLITE_BUSY, the primary code of its extended ones
)

// schemaVersion is the database's user_version.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// baseline brings a trail from before the versions, of any earlier shape,
// to the shape of version 1: the tables, the columns added since the
// first schema, operator decisions once kept only in the inspection row
// moved into the decisions table, and the chain, which on its first
// creation adopts the rows already there. On a new file it creates the
// tables.
func baseline(ctx context.Context, tx *sql.Tx) error {
	hadChain, err := hasTable(ctx, tx, "chain")
	if err != nil {
		return err
	}
	// tables that came after the chain: a trail holding one had a chain
	chainEra := false
	for _, t := range []string{"delivery", "users", "access_events"} {
		has, err := hasTable(ctx, tx, t)
		if err != nil {
			return err
		}
		chainEra = chainEra || has
	}
	if _, err := tx.ExecContext(ctx, schema+chainSchema+usersSchema); err != nil {
		return err
	}
	if err := addMissingColumns(ctx, tx); err != nil {
		return err
	}
	if hadChain {
		return nil
	}
	// Before the decisions table, a review was written into the
	// inspection row only.
	if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (inspection_id, decided_at, kind, decision, operator, reason)
		SELECT id, COALESCE(reviewed_at, inspected_at), 'review', operator_decision, COALESCE(operator, 'unknown'), review_reason
		FROM inspections i WHERE operator_decision IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.inspection_id = i.id)`); err != nil {
		return err
	}
	n, err := adoptUnchained(ctx, tx)
	switch {
	case err != nil:
		return err
	case chainEra:
		// the chain was dropped (and the version reset) behind the
		// station's back: its rows are adopted so the station can go on
		// recording, but the trail says so for ever (Verify fails)
		return addAccessEvent(ctx, tx, "station", EventChainRebuilt,
			fmt.Sprintf("the trail had lost its hash chain: %d rows adopted, none of them vouched for", n))
	case n > 0:
		return addAccessEvent(ctx, tx, "station", EventChainAdopted,
			fmt.Sprintf("%d rows written before the hash chain existed adopted", n))
	}
	return nil
}

// hasTable says whether the database has table name.
func hasTable(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

// addedColumns are inspection columns newer than the first schema, added
// by the baseline to a database made before them (its older rows keep
// NULL there). A column added later is a step of its own.
var addedColumns = []struct{ name, decl string }{
	{"caution_kinds", "TEXT"},
	{"cautions", "TEXT"},
	{"familiarity", "REAL"},
	{"archive_path", "TEXT"},
	{"archive_sha256", "TEXT"},
}

func addMissingColumns(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info('inspections')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	for _, c := range addedColumns {
		if !have[c.name] {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE inspections ADD COLUMN "+c.name+" "+c.decl); err != nil {
				return err
			}
		}
	}
	return nil
}
