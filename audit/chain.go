package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"steelinspect/verdict"
)

// The trail is tamper-evident: every row written (an inspection, an
// operator decision or its undo, a setting change) gets an entry in the
// chain table, in the same transaction, holding the row's content as it
// was committed and a SHA-256 hash over that content and the hash of the
// entry before. Rows are never updated in place: a correction is a new
// row. Changing a row, deleting one, or inserting one with the sqlite3
// shell then shows in Verify, which names the first entry that no longer
// holds; a copy of the chain (WriteChain) can be checked away from the
// station (VerifyChain). Truncating the newest entries together with
// their rows leaves a shorter chain that still holds: keep an exported
// head hash to catch that.

// chainTable is a table whose rows are chained, with the columns the
// chain records, in order, and the one that says when the row was
// written.
type chainTable struct {
	kind, table string
	columns     []string
	at          string
}

var chainTables = []chainTable{
	{"inspection", "inspections", []string{"id", "inspected_at", "source", "path", "sha256", "width", "height", "bytes",
		"model_name", "model_version", "model_sha256", "pass_threshold", "reject_threshold", "confidence",
		"mean_probability", "auto_decision", "operator_decision", "operator", "reviewed_at", "review_reason",
		"caution_kinds", "cautions", "familiarity", "archive_path", "archive_sha256"}, "inspected_at"},
	{"decision", "decisions", []string{"id", "inspection_id", "decided_at", "kind", "decision", "operator", "reason"}, "decided_at"},
	{"setting", "setting_changes", []string{"id", "changed_at", "changed_by", "setting", "old_value", "new_value"}, "changed_at"},
	{"purge", "archive_purges", []string{"id", "purged_at", "path", "bytes", "reason"}, "purged_at"},
	{"access", "access_events", []string{"id", "at", "user", "event", "detail"}, "at"},
	{"user", "user_changes", []string{"id", "at", "changed_by", "name", "role", "hash_sha256", "disabled"}, "at"},
	{"move", "file_moves", []string{"id", "inspection_id", "moved_at", "moved_by", "from_path", "to_path", "note"}, "moved_at"},
	{"class", "inspection_classes", []string{"id", "inspection_id", "recorded_at", "class", "patches"}, "recorded_at"},
}

func tableOf(kind string) (chainTable, bool) {
	for _, t := range chainTables {
		if t.kind == kind {
			return t, true
		}
	}
	return chainTable{}, false
}

const chainSchema = `
CREATE TABLE IF NOT EXISTS delivery (
	sink       TEXT PRIMARY KEY,
	seq        INTEGER NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chain (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL, -- one of chainTables' kinds
	row_id  INTEGER NOT NULL,
	payload TEXT NOT NULL,
	prev    TEXT NOT NULL,
	hash    TEXT NOT NULL,
	UNIQUE (kind, row_id)
);
`

// ChainEntry is one link of the chain.
type ChainEntry struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	RowID   int64  `json:"row_id"`
	Payload string `json:"payload"` // the row's columns as a JSON object, column → value
	Prev    string `json:"prev"`
	Hash    string `json:"hash"`
}

// chainHash is an entry's hash: over the previous entry's hash, what the
// entry is and the row's content.
func chainHash(prev, kind string, rowID int64, payload string) string {
	h := sha256.New()
	io.WriteString(h, prev)
	h.Write([]byte{0x1f})
	io.WriteString(h, kind)
	h.Write([]byte{0x1f})
	io.WriteString(h, strconv.FormatInt(rowID, 10))
	h.Write([]byte{0x1f})
	io.WriteString(h, payload)
	return hex.EncodeToString(h.Sum(nil))
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowPayload reads a row's columns back as a JSON object (column →
// value, keys in order): what was committed, as SQLite stores it.
// sql.ErrNoRows when it is gone. columns must be among t's: a new entry
// takes all of them, Verify those its entry recorded, so a column added
// to the schema later leaves older entries verifiable.
func rowPayload(ctx context.Context, q queryer, t chainTable, id int64, columns []string) (string, error) {
	vals := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := q.QueryRowContext(ctx, "SELECT "+strings.Join(columns, ", ")+" FROM "+t.table+" WHERE id = ?", id).Scan(ptrs...)
	if err != nil {
		return "", err
	}
	row := make(map[string]any, len(columns))
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		row[columns[i]] = v
	}
	out, err := json.Marshal(row) // maps marshal with sorted keys
	return string(out), err
}

// payloadColumns are the columns an entry's payload recorded, each one of
// t's; an error when the payload is not such an object.
func payloadColumns(t chainTable, payload string) ([]string, error) {
	var row map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &row); err != nil {
		return nil, err
	}
	cols := make([]string, 0, len(row))
	for c := range row {
		if !slices.Contains(t.columns, c) {
			return nil, fmt.Errorf("column %q is not one of %s's", c, t.table)
		}
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols, nil
}

// appendChain chains row id of kind, in the transaction that wrote it.
func appendChain(ctx context.Context, tx *sql.Tx, kind string, id int64) error {
	t, ok := tableOf(kind)
	if !ok {
		return fmt.Errorf("chain: unknown kind %q", kind)
	}
	return appendColumns(ctx, tx, t, id, t.columns)
}

// appendColumns chains row id of t with the given columns of it.
func appendColumns(ctx context.Context, tx *sql.Tx, t chainTable, id int64, columns []string) error {
	payload, err := rowPayload(ctx, tx, t, id, columns)
	if err != nil {
		return err
	}
	var prev string
	err = tx.QueryRowContext(ctx, `SELECT hash FROM chain ORDER BY seq DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO chain (kind, row_id, payload, prev, hash) VALUES (?,?,?,?,?)`,
		t.kind, id, payload, prev, chainHash(prev, t.kind, id, payload))
	return err
}

// adoptUnchained chains, once, the rows of a trail written before the
// chain existed (the baseline migration does, in its transaction, when
// it creates the chain table): they are vouched for from then on, not
// before. It chains the tables and columns of chainTables that the trail
// has at the time, so that a later migration adding a chained table or
// column leaves it working on the trails it adopts.
func adoptUnchained(ctx context.Context, tx *sql.Tx) (int, error) {
	n := 0
	for _, t := range chainTables {
		cols, err := presentColumns(ctx, tx, t)
		if err != nil {
			return n, err
		}
		if len(cols) == 0 {
			continue // no such table yet
		}
		ids, err := unchainedIDs(ctx, tx, t)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := appendColumns(ctx, tx, t, id, cols); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// presentColumns are those of t's columns its table has (none when there
// is no such table).
func presentColumns(ctx context.Context, tx *sql.Tx, t chainTable) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t.table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[name] = true
	}
	var cols []string
	for _, c := range t.columns {
		if have[c] {
			cols = append(cols, c)
		}
	}
	return cols, rows.Err()
}

// unchainedIDs are the rows of t that have no chain entry, oldest first.
func unchainedIDs(ctx context.Context, tx *sql.Tx, t chainTable) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM "+t.table+" WHERE id NOT IN (SELECT row_id FROM chain WHERE kind = ?) ORDER BY id", t.kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Chain lists the chain, oldest first.
func (s *Store) Chain(ctx context.Context) ([]ChainEntry, error) { return s.ChainAfter(ctx, 0, -1) }

// ChainAfter lists up to limit chain entries after seq, oldest first (a
// negative limit: all): an outbox reads the trail in the order it was
// written with it.
func (s *Store) ChainAfter(ctx context.Context, seq int64, limit int) ([]ChainEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, row_id, payload, prev, hash FROM chain WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("chain: %s", explain(err))
	}
	defer rows.Close()
	var out []ChainEntry
	for rows.Next() {
		var e ChainEntry
		if err := rows.Scan(&e.Seq, &e.Kind, &e.RowID, &e.Payload, &e.Prev, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WaitDelivered waits until sink has taken every entry the trail held
// when it was called; when ctx ends first it says how many still wait.
func (s *Store) WaitDelivered(ctx context.Context, sink string) (int64, error) {
	want, err := s.ChainHead(ctx)
	if err != nil {
		return 0, err
	}
	for {
		mark, err := s.Delivered(context.WithoutCancel(ctx), sink)
		if err != nil || mark >= want {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return want - mark, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ChainHead is the newest chain entry's seq; 0 for an empty trail.
func (s *Store) ChainHead(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM chain`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("chain: %s", explain(err))
	}
	return seq, nil
}

// Delivered is the last chain entry a sink (an MQTT broker, say) has
// acknowledged; 0 before the first.
func (s *Store) Delivered(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT seq FROM delivery WHERE sink = ?`, sink).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("delivery of %s: %s", sink, explain(err))
	}
	return seq, nil
}

// SetDelivered records that sink has acknowledged every entry up to seq.
// It is delivery state, not a record: it is not chained.
func (s *Store) SetDelivered(ctx context.Context, sink string, seq int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO delivery (sink, seq, updated_at) VALUES (?,?,?)
		ON CONFLICT(sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
		sink, seq, time.Now().UTC().Format(timeLayout))
	if err != nil {
		return fmt.Errorf("delivery of %s: %s", sink, explain(err))
	}
	return nil
}

// Decision reads one row of the decisions table.
func (s *Store) Decision(ctx context.Context, id int64) (DecisionEvent, error) {
	var e DecisionEvent
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT id, inspection_id, decided_at, kind, COALESCE(decision,''), operator, COALESCE(reason,'')
		FROM decisions WHERE id = ?`, id).Scan(&e.ID, &e.InspectionID, &at, &e.Kind, &e.Decision, &e.Operator, &e.Reason)
	if err != nil {
		return e, fmt.Errorf("decision %d: %s", id, explain(err))
	}
	e.DecidedAt, _ = time.Parse(timeLayout, at)
	return e, nil
}

// Verification is what Verify found.
type Verification struct {
	Entries int            `json:"entries"`
	ByKind  map[string]int `json:"by_kind"`
	Head    string         `json:"head"` // the newest entry's hash
	// Problems, the first one first: entries whose link or hash no longer
	// holds, rows changed or deleted after they were chained, rows that
	// were never chained. Empty when the trail is intact.
	Problems []string `json:"problems,omitempty"`
	// Adopted says when rows written before the chain existed were
	// adopted into it (vouched for from then on, not before); "" when
	// the trail was chained from its start.
	Adopted string `json:"adopted,omitempty"`
}

// maxProblems bounds the problems listed.
const maxProblems = 50

func (v *Verification) problem(format string, args ...any) {
	if len(v.Problems) < maxProblems {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// checkLinks checks that each entry links to the one before and that its
// hash is its content's: the part of verification that needs no
// database.
func checkLinks(entries []ChainEntry, v *Verification) { checkLinksAfter("", entries, v) }

// checkLinksAfter is checkLinks for entries that follow the entry whose
// hash is prev ("" for a chain from its start).
func checkLinksAfter(prev string, entries []ChainEntry, v *Verification) {
	v.Head, v.ByKind = prev, map[string]int{}
	for _, e := range entries {
		v.Check(e)
	}
}

// Check checks the next entry of a chain read one entry at a time: its
// link to the one before (v.Head, which a part of a chain starts with) and
// its hash.
func (v *Verification) Check(e ChainEntry) {
	if v.ByKind == nil {
		v.ByKind = map[string]int{}
	}
	v.Entries++
	v.ByKind[e.Kind]++
	if e.Prev != v.Head {
		v.problem("chain entry %d (%s %d): its link to the entry before is broken: an entry was deleted, inserted or changed before it", e.Seq, e.Kind, e.RowID)
	}
	if chainHash(e.Prev, e.Kind, e.RowID, e.Payload) != e.Hash {
		v.problem("chain entry %d (%s %d) was altered after it was written", e.Seq, e.Kind, e.RowID)
	}
	v.Head = e.Hash
}

// Verify checks the whole trail: every chain entry's link and hash, every
// chained row against what was committed, and that no row escaped the
// chain.
func (s *Store) Verify(ctx context.Context) (*Verification, error) {
	entries, err := s.Chain(ctx)
	if err != nil {
		return nil, err
	}
	v := &Verification{}
	checkLinks(entries, v)
	chained, err := s.verifyRows(ctx, entries, v)
	if err != nil {
		return nil, err
	}
	if err := s.verifyEnds(ctx, entries, v); err != nil {
		return nil, err
	}
	if err := s.verifyUsers(ctx, v); err != nil {
		return nil, err
	}
	if err := s.verifyAllChained(ctx, chained, v); err != nil {
		return nil, err
	}
	return v, nil
}

// verifyRows checks every chained row against what was committed, and
// returns the rows chained, by kind.
func (s *Store) verifyRows(ctx context.Context, entries []ChainEntry, v *Verification) (map[string]map[int64]bool, error) {
	chained := map[string]map[int64]bool{}
	for _, e := range entries {
		if chained[e.Kind] == nil {
			chained[e.Kind] = map[int64]bool{}
		}
		chained[e.Kind][e.RowID] = true
		t, ok := tableOf(e.Kind)
		if !ok {
			v.problem("chain entry %d has an unknown kind %q", e.Seq, e.Kind)
			continue
		}
		cols, err := payloadColumns(t, e.Payload)
		if err != nil {
			v.problem("chain entry %d (%s %d) holds no readable row: %v", e.Seq, e.Kind, e.RowID, err)
			continue
		}
		now, err := rowPayload(ctx, s.db, t, e.RowID, cols)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			v.problem("%s %d was deleted (chain entry %d)", e.Kind, e.RowID, e.Seq)
		case err != nil:
			return nil, fmt.Errorf("verify %s %d: %s", e.Kind, e.RowID, explain(err))
		case now != e.Payload:
			v.problem("%s %d was changed after it was recorded (chain entry %d): %s", e.Kind, e.RowID, e.Seq, changedColumns(e.Payload, now))
		}
	}
	return chained, nil
}

// verifyAllChained finds the rows of the chained tables that have no
// entry: inserted outside the trail.
func (s *Store) verifyAllChained(ctx context.Context, chained map[string]map[int64]bool, v *Verification) error {
	for _, t := range chainTables {
		rows, err := s.db.QueryContext(ctx, "SELECT id FROM "+t.table+" ORDER BY id")
		if err != nil {
			return fmt.Errorf("verify: %s", explain(err))
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !chained[t.kind][id] {
				v.problem("%s %d was inserted outside the trail (no chain entry)", t.kind, id)
			}
		}
		rows.Close()
	}
	return nil
}

// verifyEnds checks the chain's start and end against what the trail
// knows of them: a chain rebuilt after it was lost (recorded when it was
// rebuilt), newest entries deleted (the chain's own counter, and the
// delivery marks of the MQTT broker and the central database, went
// further than its head).
func (s *Store) verifyEnds(ctx context.Context, entries []ChainEntry, v *Verification) error {
	var head int64
	for _, e := range entries {
		head = max(head, e.Seq)
		if e.Kind != "access" {
			continue
		}
		var ev struct{ At, Event, Detail string }
		if json.Unmarshal([]byte(e.Payload), &ev) != nil {
			continue // an unreadable payload is a problem already
		}
		switch ev.Event {
		case EventChainRebuilt:
			v.problem("the hash chain was lost and rebuilt on %s (chain entry %d): %s; the trail before it cannot be vouched for", ev.At, e.Seq, ev.Detail)
		case EventChainAdopted:
			v.Adopted = fmt.Sprintf("%s on %s", ev.Detail, ev.At)
		}
	}
	var counter int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'chain'`).Scan(&counter)
	if err != nil {
		return fmt.Errorf("verify: %s", explain(err))
	}
	if counter > head {
		v.problem("the newest chain entries %d to %d were deleted (the chain had reached entry %d, its head is now %d)", head+1, counter, counter, head)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sink, seq FROM delivery ORDER BY sink`)
	if err != nil {
		return fmt.Errorf("verify: %s", explain(err))
	}
	defer rows.Close()
	for rows.Next() {
		var sink string
		var seq int64
		if err := rows.Scan(&sink, &seq); err != nil {
			return err
		}
		if seq > head {
			v.problem("%s took chain entries up to %d, past the chain's head %d: the newest entries were deleted", sink, seq, head)
		}
	}
	return rows.Err()
}

// Head is the newest chain entry as SEQ:HASH ("0:" for an empty trail):
// kept away from the station, it lets VerifyHead tell a chain cut short.
func (s *Store) Head(ctx context.Context) (string, error) {
	var seq int64
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "0:", nil
	}
	if err != nil {
		return "", fmt.Errorf("chain: %s", explain(err))
	}
	return fmt.Sprintf("%d:%s", seq, hash), nil
}

// ParseHead reads a head as Head writes it, SEQ:HASH.
func ParseHead(head string) (int64, string, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(head), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 0 || (seq > 0 && len(hash) != 64) {
		return 0, "", fmt.Errorf("%q is not a chain head (SEQ:HASH, as history head prints it)", head)
	}
	return seq, hash, nil
}

// VerifyHead adds a problem to v when the chain no longer reaches head
// (SEQ:HASH, kept from an earlier Head): its entry is gone or another. An
// empty head checks nothing.
func (s *Store) VerifyHead(ctx context.Context, v *Verification, head string) error {
	if head == "" {
		return nil // no head kept
	}
	seq, hash, err := ParseHead(head)
	if err != nil || seq == 0 {
		return err
	}
	var have string
	err = s.db.QueryRowContext(ctx, `SELECT hash FROM chain WHERE seq = ?`, seq).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v.problem("the chain no longer reaches the head kept earlier (%d:%s…): entry %d is gone", seq, hash[:12], seq)
	case err != nil:
		return fmt.Errorf("chain: %s", explain(err))
	case have != hash:
		v.problem("the chain no longer reaches the head kept earlier (%d:%s…): entry %d is another (%s…)", seq, hash[:12], seq, have[:min(12, len(have))])
	}
	return nil
}

// changedColumns says which columns differ between two payloads, with
// their recorded and present values.
func changedColumns(was, is string) string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal([]byte(was), &a) != nil || json.Unmarshal([]byte(is), &b) != nil {
		return fmt.Sprintf("was %s, is %s", was, is)
	}
	cols := make([]string, 0, len(a))
	for c := range a {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var diffs []string
	for _, c := range cols {
		if string(a[c]) != string(b[c]) {
			diffs = append(diffs, fmt.Sprintf("%s was %s, is %s", c, a[c], b[c]))
		}
	}
	return strings.Join(diffs, "; ")
}

// WriteChain writes the chain as JSON lines, oldest first: with an
// export of the inspections (whose rows carry their chain hash) it lets
// the trail be checked away from the station.
func WriteChain(w io.Writer, entries []ChainEntry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

// VerifyChain checks a chain written by WriteChain: links and hashes. A
// part of a chain (a month retired from the central database) is checked
// with after, the hash of the entry before its first ("" for a chain
// from its start).
func VerifyChain(r io.Reader, after string) (*Verification, error) {
	dec := json.NewDecoder(r)
	v := &Verification{ByKind: map[string]int{}, Head: after}
	for {
		var e ChainEntry
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("chain file, entry %d: %v", v.Entries+1, err)
		}
		v.Check(e) // one entry at a time: a month of a plant's trail need not fit in memory
	}
	return v, nil
}

// VerifyEntries checks entries (oldest first) as a chain that follows the
// entry whose hash is after ("" for a chain from its start): links and
// hashes, without a database (a central copy, an export).
func VerifyEntries(after string, entries []ChainEntry) *Verification {
	v := &Verification{}
	checkLinksAfter(after, entries, v)
	return v
}

// InspectionFromPayload rebuilds an inspection from its chain entry's
// payload and, when there is one, the payload of the operator's review
// in force (a central copy of the trail holds only these).
func InspectionFromPayload(payload, review string) (Inspection, error) {
	var in Inspection // its JSON names are the columns'; NULL reads as empty
	if err := json.Unmarshal([]byte(payload), &in); err != nil {
		return Inspection{}, err
	}
	// the decision in force is the review's, never a row's own columns
	in.OperatorDecision, in.Operator, in.ReviewReason, in.ReviewedAt = verdict.Optional{}, "", "", time.Time{}
	if review != "" {
		var d struct {
			DecidedAt time.Time        `json:"decided_at"`
			Decision  verdict.Optional `json:"decision"`
			Operator  string           `json:"operator"`
			Reason    string           `json:"reason"`
		}
		if err := json.Unmarshal([]byte(review), &d); err != nil {
			return Inspection{}, err
		}
		in.OperatorDecision, in.Operator, in.ReviewReason, in.ReviewedAt = d.Decision, d.Operator, d.Reason, d.DecidedAt
	}
	return in, nil
}
