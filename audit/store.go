// Package audit keeps the station's trail of decisions in an embedded
// SQLite database: every inspected strip with the model and thresholds that
// judged it, every operator confirmation or override, and every change of
// settings. A record is committed (fsync'd, WAL mode with synchronous=FULL)
// before the caller reports it done, so killing the process at any moment
// loses no completed record and corrupts nothing. The file carries its
// schema version and is upgraded on open (migrate.go); a file from a
// newer steelinspect is refused.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, no cgo

	"steelinspect/verdict"
)

// Store is an open audit database. It is safe for concurrent use, also by
// several processes on the same file (SQLite locking, with a busy timeout).
type Store struct {
	db   *sql.DB
	path string
	// changed is signalled (without blocking) after each committed write,
	// for an outbox in this process to wake at once (Changes).
	changed chan struct{}
	// warning says what is unsafe about the file (others may read it).
	warning string
}

// DefaultPath is the audit database in the user's data folder:
// $XDG_DATA_HOME/steelinspect/audit.db (~/.local/share/steelinspect/audit.db).
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no data folder: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "steelinspect", "audit.db"), nil
}

const schema = `
CREATE TABLE IF NOT EXISTS inspections (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	inspected_at     TEXT NOT NULL,
	source           TEXT NOT NULL,
	path             TEXT NOT NULL,
	sha256           TEXT NOT NULL,
	width            INTEGER NOT NULL,
	height           INTEGER NOT NULL,
	bytes            INTEGER NOT NULL,
	model_name       TEXT NOT NULL,
	model_version    TEXT NOT NULL,
	model_sha256     TEXT NOT NULL,
	pass_threshold   REAL NOT NULL,
	reject_threshold REAL NOT NULL,
	confidence       REAL NOT NULL,
	mean_probability REAL NOT NULL,
	auto_decision    TEXT NOT NULL CHECK (auto_decision IN ('PASS','REVIEW','REJECT')),
	operator_decision TEXT CHECK (operator_decision IN ('PASS','REJECT')),
	operator         TEXT,
	reviewed_at      TEXT,
	review_reason    TEXT,
	caution_kinds    TEXT,
	cautions         TEXT,
	familiarity      REAL,
	archive_path     TEXT,
	archive_sha256   TEXT
);
CREATE INDEX IF NOT EXISTS inspections_time ON inspections(inspected_at);
CREATE INDEX IF NOT EXISTS inspections_sha ON inspections(sha256);
CREATE TABLE IF NOT EXISTS decisions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id INTEGER NOT NULL REFERENCES inspections(id),
	decided_at    TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('review','undo')),
	decision      TEXT CHECK (decision IN ('PASS','REJECT')),
	operator      TEXT NOT NULL,
	reason        TEXT
);
CREATE INDEX IF NOT EXISTS decisions_inspection ON decisions(inspection_id);
CREATE TABLE IF NOT EXISTS archive_purges (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	purged_at TEXT NOT NULL,
	path      TEXT NOT NULL,
	bytes     INTEGER NOT NULL,
	reason    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS setting_changes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	changed_at TEXT NOT NULL,
	changed_by TEXT NOT NULL,
	setting    TEXT NOT NULL,
	old_value  TEXT NOT NULL,
	new_value  TEXT NOT NULL
);
`

// Open opens (creating if needed) the audit database at path. A new file
// is readable and writable by its owner only (0600; SQLite gives its
// journal files the same mode); an existing one that others may read
// opens with a Warning.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("audit database folder: %w", err)
	}
	warning, err := createPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("audit database %s: %w", path, err)
	}
	// Write transactions take the write lock when they begin
	// (_txlock=immediate): each reads the chain's head and appends to it,
	// and two writers, also in two processes, must not both read the same
	// head, nor two processes opening a file both apply a schema step.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("audit database %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		var newer *newerSchemaError
		if errors.As(err, &newer) {
			return nil, fmt.Errorf("audit database %s %w", path, err)
		}
		return nil, fmt.Errorf("audit database %s: %s", path, explain(err))
	}
	return &Store{db: db, path: path, changed: make(chan struct{}, 1), warning: warning}, nil
}

// createPrivate creates path empty with mode 0600 when it does not exist,
// and says so when an existing file may be read or written by others.
func createPrivate(path string) (warning string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return "", f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Sprintf("audit database %s may be read by other users of this machine (mode %04o): chmod 600 it", path, mode), nil
	}
	return "", nil
}

// Warning says what is unsafe about the database file ("" when nothing):
// today, that others may read it.
func (s *Store) Warning() string { return s.warning }

// Changes is signalled after a write to the trail by this process: a
// reader that follows the trail (an outbox) wakes at once instead of at
// its next poll. Writes by other processes it still finds by polling.
func (s *Store) Changes() <-chan struct{} { return s.changed }

// explain turns SQLite's errors into what an operator can act on.
func explain(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only"):
		return "the database is read-only (check the file's permissions)"
	case strings.Contains(msg, "SQLITE_FULL") || strings.Contains(msg, "disk is full"):
		return "the disk is full; free space and retry (nothing was recorded)"
	case strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked"):
		return "the database is locked by another program for too long; retry"
	case strings.Contains(msg, "not a database") || strings.Contains(msg, "SQLITE_NOTADB"):
		return "the file is not an audit database"
	}
	return msg
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Inspection is one audited strip.
type Inspection struct {
	ID              int64            `json:"id"`
	InspectedAt     time.Time        `json:"inspected_at"`
	Source          string           `json:"source"` // window, scan, watch, api
	Path            string           `json:"path"`
	SHA256          string           `json:"sha256"`
	Width           int              `json:"width"`
	Height          int              `json:"height"`
	Bytes           int              `json:"bytes"`
	ModelName       string           `json:"model_name"`
	ModelVersion    string           `json:"model_version"`
	ModelSHA256     string           `json:"model_sha256"`
	PassThreshold   float64          `json:"pass_threshold"`
	RejectThreshold float64          `json:"reject_threshold"`
	Confidence      float64          `json:"confidence"`
	MeanProbability float64          `json:"mean_probability"`
	AutoDecision    verdict.Decision `json:"auto_decision"`
	// OperatorDecision is the operator's decision in force, PASS or
	// REJECT; none while nobody has decided.
	OperatorDecision verdict.Optional `json:"operator_decision,omitzero"`
	Operator         string           `json:"operator,omitempty"`
	ReviewedAt       time.Time        `json:"reviewed_at,omitzero"`
	ReviewReason     string           `json:"review_reason,omitempty"`
	// CautionKinds ("implausible", "unfamiliar", comma-separated) and
	// Cautions (their reasons, one line) say why the strip went to review
	// whatever its scores; Familiarity is its familiarity score (nil for a
	// model that does not measure it).
	CautionKinds string   `json:"caution_kinds,omitempty"`
	Cautions     string   `json:"cautions,omitempty"`
	Familiarity  *float64 `json:"familiarity,omitempty"`
	// ChainSeq and ChainHash are the inspection's entry in the trail's
	// hash chain (chain.go), so an export can be checked against it.
	ChainSeq  int64  `json:"chain_seq,omitempty"`
	ChainHash string `json:"chain_hash,omitempty"`
	// ArchivePath and ArchiveSHA256 are the archived copy of the strip
	// (package archive), when one was kept.
	ArchivePath   string `json:"archive_path,omitempty"`
	ArchiveSHA256 string `json:"archive_sha256,omitempty"`
	// FilePath is where the strip's file was last moved to, as the trail
	// recorded it (the hot folder's move into its outcome folder, then a
	// person's decision's); "" when no move was recorded: the file is at
	// Path (CurrentPath). FileNote is the newest recorded move's note:
	// why the file was not moved, when it was not.
	FilePath string `json:"file_path,omitempty"`
	FileNote string `json:"file_note,omitempty"`
	// DefectClass is the strip's most likely defect class, for a model
	// that gives classes and a strip with a patch outside the pass zone
	// (verdict.LikelyClass), and DefectPatches how many of those
	// patches share it; "" and 0 otherwise. It is recorded in its own
	// table, chained as "class" (classes.go).
	DefectClass   string `json:"defect_class,omitempty"`
	DefectPatches int    `json:"defect_patches,omitempty"`
	// Station is the station that recorded it, in a plant-wide query of
	// the central database (package central); "" in a station's own trail.
	Station string `json:"station,omitempty"`
}

// FinalDecision is the operator's decision where there is one, else the
// automatic one.
func (in *Inspection) FinalDecision() verdict.Decision {
	return verdict.Final(in.AutoDecision, in.OperatorDecision)
}

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Add records an inspection and returns its id once it is durable.
func (s *Store) Add(ctx context.Context, in Inspection) (int64, error) {
	if in.InspectedAt.IsZero() {
		in.InspectedAt = time.Now()
	}
	var id int64
	err := s.inTx(ctx, "record inspection of "+in.Path, func(tx *sql.Tx) error {
		res, err := insertRow(ctx, tx, "inspections", inspectionColumns(&in))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := appendChain(ctx, tx, "inspection", id); err != nil {
			return err
		}
		return addClass(ctx, tx, id, &in)
	})
	return id, err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Review records an operator's decision on inspection id: PASS or REJECT,
// with a reason (required when it overrides an automatic decision or
// passes a strip the station found implausible: verdict.ReasonRequired). Every
// decision, and every correction or undo of one, is a new row of the
// decisions table (Decisions); the one in force is the newest, unless it
// is an undo. Nothing is updated in place.
func (s *Store) Review(ctx context.Context, id int64, decision verdict.Decision, operator, reason string) error {
	if decision != verdict.Pass && decision != verdict.Reject {
		return fmt.Errorf("operator decision %s must be %s or %s", decision, verdict.Pass, verdict.Reject)
	}
	if strings.TrimSpace(operator) == "" {
		return errors.New("operator name is required")
	}
	var auto verdict.Decision
	var kinds string
	if err := s.db.QueryRowContext(ctx, `SELECT auto_decision, COALESCE(caution_kinds, '') FROM inspections WHERE id = ?`, id).Scan(&auto, &kinds); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no inspection %d", id)
		}
		return fmt.Errorf("review %d: %s", id, explain(err))
	}
	if verdict.ReasonRequired(auto, decision, verdict.ParseCautionKinds(kinds)) {
		if err := CheckReason(reason); err != nil {
			if auto == verdict.Review {
				return fmt.Errorf("passing a strip the station found implausible needs a reason: %w", err)
			}
			return fmt.Errorf("overriding the automatic %s needs a reason: %w", auto, err)
		}
	}
	now := time.Now().UTC().Format(timeLayout)
	return s.inTx(ctx, fmt.Sprintf("review %d", id), func(tx *sql.Tx) error {
		return addDecision(ctx, tx, id, now, "review", verdict.Some(decision), operator, reason)
	})
}

// addDecision writes one row of the decisions table and chains it.
func addDecision(ctx context.Context, tx *sql.Tx, id int64, at, kind string, decision verdict.Optional, operator, reason string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO decisions (inspection_id, decided_at, kind, decision, operator, reason) VALUES (?,?,?,?,?,?)`,
		id, at, kind, decision, operator, reason)
	if err != nil {
		return err
	}
	row, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, "decision", row)
}

// inspectionsInForce joins each inspection (i) to its operator decision
// in force (d): the newest row of the decisions table when it is a review
// (an undo leaves none).
const inspectionsInForce = `inspections i
		LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE inspection_id = i.id) AND d.kind = 'review'`

// decisionInForce is the newest operator decision on inspection id when
// it is a review ("" when there is none, or the newest is an undo).
const decisionInForce = `SELECT CASE WHEN kind = 'review' THEN decision ELSE '' END FROM decisions
	WHERE inspection_id = ? ORDER BY id DESC LIMIT 1`

// Undo takes back the operator decision in force on inspection id: an
// "undo" entry joins the decisions table (the decision undone stays there)
// and the strip waits for an operator again.
func (s *Store) Undo(ctx context.Context, id int64, operator string) error {
	if strings.TrimSpace(operator) == "" {
		return errors.New("operator name is required")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inspections WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("undo %d: %s", id, explain(err))
	}
	if n == 0 {
		return fmt.Errorf("no inspection %d", id)
	}
	var current verdict.Optional
	err := s.db.QueryRowContext(ctx, decisionInForce, id).Scan(&current)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("undo %d: %s", id, explain(err))
	}
	if current.IsZero() {
		return fmt.Errorf("inspection %d has no operator decision to undo", id)
	}
	now := time.Now().UTC().Format(timeLayout)
	return s.inTx(ctx, fmt.Sprintf("undo %d", id), func(tx *sql.Tx) error {
		return addDecision(ctx, tx, id, now, "undo", verdict.Optional{}, operator, "undoes "+current.String())
	})
}

// DecisionEvent is one entry of an inspection's operator decisions: a
// review (Decision PASS or REJECT) or the undo of the one before.
type DecisionEvent struct {
	ID           int64            `json:"id"`
	InspectionID int64            `json:"inspection_id"`
	DecidedAt    time.Time        `json:"decided_at"`
	Kind         string           `json:"kind"`              // review or undo
	Decision     verdict.Optional `json:"decision,omitzero"` // none for an undo
	Operator     string           `json:"operator"`
	Reason       string           `json:"reason,omitempty"`
}

// Decisions lists inspection id's operator decisions, oldest first.
func (s *Store) Decisions(ctx context.Context, id int64) ([]DecisionEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, inspection_id, decided_at, kind, COALESCE(decision,''), operator, COALESCE(reason,'')
		FROM decisions WHERE inspection_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("decisions of %d: %s", id, explain(err))
	}
	defer rows.Close()
	var out []DecisionEvent
	for rows.Next() {
		var e DecisionEvent
		var at string
		if err := rows.Scan(&e.ID, &e.InspectionID, &at, &e.Kind, &e.Decision, &e.Operator, &e.Reason); err != nil {
			return nil, err
		}
		e.DecidedAt, _ = time.Parse(timeLayout, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction, committed only when fn succeeds.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %s", what, explain(err))
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %s", what, explain(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %s", what, explain(err))
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
}

// MinReasonLetters is the fewest letters and digits an override's reason
// must hold: a stray key press ("p") is no reason.
const MinReasonLetters = 5

// CheckReason refuses an override reason that says nothing: the one rule
// for the window's reason box and the trail itself.
func CheckReason(reason string) error {
	n := 0
	for _, r := range reason {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	if n < MinReasonLetters {
		return fmt.Errorf("say why in a few words (at least %d letters)", MinReasonLetters)
	}
	return nil
}

// SettingChange is one audited change of a threshold or the model.
type SettingChange struct {
	ID        int64     `json:"id"`
	ChangedAt time.Time `json:"changed_at"`
	ChangedBy string    `json:"changed_by"`
	Setting   string    `json:"setting"`
	OldValue  string    `json:"old_value"`
	NewValue  string    `json:"new_value"`
}

// AddSettingChange records a change of setting from old to new by who.
func (s *Store) AddSettingChange(ctx context.Context, who, setting, old, new string) error {
	return s.inTx(ctx, "record change of "+setting, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO setting_changes (changed_at, changed_by, setting, old_value, new_value) VALUES (?,?,?,?,?)`,
			time.Now().UTC().Format(timeLayout), who, setting, old, new)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return appendChain(ctx, tx, "setting", id)
	})
}

// AddPurge records that the archive removed a file (retention or quota).
func (s *Store) AddPurge(ctx context.Context, path string, bytes int64, reason string) error {
	return s.inTx(ctx, "record purge of "+path, func(tx *sql.Tx) error {
		res, err := insertRow(ctx, tx, "archive_purges", purgeColumns(time.Now(), path, bytes, reason))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return appendChain(ctx, tx, "purge", id)
	})
}

// LatestSettings is each setting's newest recorded value (setting →
// new_value): what the trail says is in force.
func (s *Store) LatestSettings(ctx context.Context) (map[string]string, error) {
	changes, err := s.LatestSettingChanges(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(changes))
	for k, c := range changes {
		out[k] = c.NewValue
	}
	return out, nil
}

// LatestSettingChanges is each setting's newest recorded change: its
// value in force, who set it and when.
func (s *Store) LatestSettingChanges(ctx context.Context) (map[string]SettingChange, error) {
	changes, err := s.settingChanges(ctx, `WHERE id IN (SELECT MAX(id) FROM setting_changes GROUP BY setting)`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]SettingChange, len(changes))
	for _, c := range changes {
		out[c.Setting] = c
	}
	return out, nil
}

// SettingChanges lists every recorded change, oldest first.
func (s *Store) SettingChanges(ctx context.Context) ([]SettingChange, error) {
	return s.settingChanges(ctx, "")
}

// settingChanges lists the changes where (an SQL WHERE clause, or ""
// for all), oldest first.
func (s *Store) settingChanges(ctx context.Context, where string) ([]SettingChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, changed_at, changed_by, setting, old_value, new_value FROM setting_changes `+where+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("setting changes: %s", explain(err))
	}
	defer rows.Close()
	var out []SettingChange
	for rows.Next() {
		var c SettingChange
		var at string
		if err := rows.Scan(&c.ID, &at, &c.ChangedBy, &c.Setting, &c.OldValue, &c.NewValue); err != nil {
			return nil, err
		}
		c.ChangedAt, _ = time.Parse(timeLayout, at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Query selects inspections for the history view and export.
type Query struct {
	Since, Until time.Time        // zero: unbounded
	Decision     verdict.Optional // final decision (operator's, else automatic); none: any
	Operator     string           // "" any; case-insensitive
	Path         string           // exact path; "" any
	SHA256       string           // exact hash; "" any
	ID           int64            // exact record id; 0 any
	Limit        int              // 0: no limit
}

// History returns the inspections matching q, oldest first.
func (s *Store) History(ctx context.Context, q Query) ([]Inspection, error) {
	var out []Inspection
	err := s.EachInspection(ctx, q, func(in *Inspection) error {
		out = append(out, *in)
		return nil
	})
	return out, err
}

// EachInspection calls fn with each inspection matching q, by id, one at
// a time (an export of a long trail holds one row in memory, not all).
func (s *Store) EachInspection(ctx context.Context, q Query, fn func(*Inspection) error) error {
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where, args = append(where, "i.inspected_at >= ?"), append(args, q.Since.UTC().Format(timeLayout))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "i.inspected_at < ?"), append(args, q.Until.UTC().Format(timeLayout))
	}
	if d, ok := q.Decision.Get(); ok {
		// the final decision (verdict.Final), in SQL
		where, args = append(where, "COALESCE(d.decision, i.auto_decision) = ?"), append(args, d)
	}
	if q.Operator != "" {
		// names are typed by hand at the start of a shift: "Alice" is alice
		where, args = append(where, "d.operator = ? COLLATE NOCASE"), append(args, strings.TrimSpace(q.Operator))
	}
	if q.Path != "" {
		where, args = append(where, "i.path = ?"), append(args, q.Path)
	}
	if q.SHA256 != "" {
		where, args = append(where, "i.sha256 = ?"), append(args, q.SHA256)
	}
	if q.ID != 0 {
		where, args = append(where, "i.id = ?"), append(args, q.ID)
	}
	query := `SELECT i.id, i.inspected_at, i.source, i.path, i.sha256, i.width, i.height, i.bytes, i.model_name, i.model_version, i.model_sha256,
		i.pass_threshold, i.reject_threshold, i.confidence, i.mean_probability, i.auto_decision,
		COALESCE(d.decision,''), COALESCE(d.operator,''), COALESCE(d.decided_at,''), COALESCE(d.reason,''),
		COALESCE(i.caution_kinds,''), COALESCE(i.cautions,''), i.familiarity, COALESCE(c.seq, 0), COALESCE(c.hash, ''),
		COALESCE(i.archive_path,''), COALESCE(i.archive_sha256,''), ` + filePathColumns + `,
		` + defectClassColumns + `
		FROM ` + inspectionsInForce + `
		LEFT JOIN chain c ON c.kind = 'inspection' AND c.row_id = i.id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY i.id"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("history: %s", explain(err))
	}
	defer rows.Close()
	for rows.Next() {
		var in Inspection
		var at, reviewed string
		if err := rows.Scan(&in.ID, &at, &in.Source, &in.Path, &in.SHA256, &in.Width, &in.Height, &in.Bytes,
			&in.ModelName, &in.ModelVersion, &in.ModelSHA256, &in.PassThreshold, &in.RejectThreshold,
			&in.Confidence, &in.MeanProbability, &in.AutoDecision, &in.OperatorDecision, &in.Operator, &reviewed, &in.ReviewReason,
			&in.CautionKinds, &in.Cautions, &in.Familiarity, &in.ChainSeq, &in.ChainHash, &in.ArchivePath, &in.ArchiveSHA256,
			&in.FilePath, &in.FileNote, &in.DefectClass, &in.DefectPatches); err != nil {
			return fmt.Errorf("history: %s", explain(err))
		}
		in.InspectedAt, _ = time.Parse(timeLayout, at)
		if reviewed != "" {
			in.ReviewedAt, _ = time.Parse(timeLayout, reviewed)
		}
		if err := fn(&in); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LastInspection is the newest inspection (with its decision in force);
// nil in an empty trail.
func (s *Store) LastInspection(ctx context.Context) (*Inspection, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM inspections`).Scan(&id); err != nil {
		return nil, fmt.Errorf("last inspection: %s", explain(err))
	}
	if id == 0 {
		return nil, nil
	}
	rows, err := s.History(ctx, Query{ID: id})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// CountFinal counts the inspections by final decision.
func (s *Store) CountFinal(ctx context.Context) (map[verdict.Decision]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(d.decision, i.auto_decision), COUNT(*) FROM `+inspectionsInForce+` GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("counts: %s", explain(err))
	}
	defer rows.Close()
	out := map[verdict.Decision]int{}
	for rows.Next() {
		var d verdict.Decision
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		out[d] = n
	}
	return out, rows.Err()
}

// Check runs SQLite's integrity check and returns an error unless it is ok.
func (s *Store) Check(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	return nil
}
