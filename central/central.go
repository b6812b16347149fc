// Package central forwards a station's audit trail to a central
// PostgreSQL, so that one database answers across stations while each
// station keeps its own SQLite trail as the source of truth and keeps
// inspecting when the plant network is down.
//
// The trail's hash chain is the outbox: the forwarder reads the entries
// after this sink's delivery mark (audit.Store.ChainAfter), writes a
// batch in one PostgreSQL transaction that must follow the station's
// last central entry (entries already there are skipped when they are
// the same, refused when not), and moves the mark only after the commit.
// So forwarding is in order, at least once and idempotent, and resumes
// after any outage or restart; nothing waits on the network in the
// inspection path (the forwarder runs beside it). The central copy keeps
// every entry's payload, previous hash and hash as the station wrote
// them, so it can be verified per station (VerifyStation), in monthly
// partitions (partition.go). API instances behind a load balancer record
// into the central trail directly (SharedTrail, shared.go).
package central

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"steelinspect/audit"
)

// migrations are the central schema's versions, applied in order on
// start; schema_version holds how many have run.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS trail (
		station     text        NOT NULL,
		seq         bigint      NOT NULL,
		kind        text        NOT NULL,
		row_id      bigint      NOT NULL,
		payload     text        NOT NULL,
		prev        text        NOT NULL,
		hash        text        NOT NULL,
		received_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (station, seq)
	);
	CREATE INDEX IF NOT EXISTS trail_kind ON trail (kind, station, row_id);`,
	// every station's inspections with the operator decision in force (the
	// newest decision entry when it is a review), for plant-wide queries
	`CREATE VIEW inspections AS
	WITH d AS (
		SELECT DISTINCT ON (station, (payload::jsonb->>'inspection_id')::bigint)
			station, (payload::jsonb->>'inspection_id')::bigint AS inspection_id, payload::jsonb AS p
		FROM trail WHERE kind = 'decision'
		ORDER BY station, (payload::jsonb->>'inspection_id')::bigint, seq DESC)
	SELECT t.station, t.seq, t.hash, t.row_id AS id, t.payload::jsonb AS p,
		CASE WHEN d.p->>'kind' = 'review' THEN d.p ELSE NULL END AS review
	FROM trail t LEFT JOIN d ON d.station = t.station AND d.inspection_id = t.row_id
	WHERE t.kind = 'inspection';`,
	// the stations that record here, each with its production line, for
	// queries by line and to see when each was last heard from
	`CREATE TABLE stations (
		station   text        PRIMARY KEY,
		line      text        NOT NULL DEFAULT '',
		last_seen timestamptz NOT NULL DEFAULT now()
	);
	INSERT INTO stations (station, last_seen) SELECT station, MAX(received_at) FROM trail GROUP BY station;
	CREATE INDEX stations_line ON stations (line);`,
	// the trail by month, and each station's head (partition.go)
	partitionByMonthSQL(),
	// the months retired from the trail, each station's part with the
	// hashes it starts after and ends with (retire.go)
	`CREATE TABLE retired (
		station    text        NOT NULL,
		month      text        NOT NULL,
		entries    bigint      NOT NULL,
		first_seq  bigint      NOT NULL,
		first_prev text        NOT NULL,
		last_seq   bigint      NOT NULL,
		last_hash  text        NOT NULL,
		archive    text        NOT NULL,
		retired_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (station, month)
	);`,
	// each station's last row id of each kind, kept with its head: a
	// shared trail continues its ids from there, not from what the
	// partitions still hold
	`ALTER TABLE heads ADD COLUMN row_ids jsonb NOT NULL DEFAULT '{}';
	UPDATE heads h SET row_ids = COALESCE((SELECT jsonb_object_agg(kind, last) FROM
		(SELECT kind, MAX(row_id) AS last FROM trail WHERE station = h.station GROUP BY kind) AS k), '{}');`,
}

// register records that station (on line) is recording here now.
func register(ctx context.Context, conn *pgx.Conn, station, line string) error {
	_, err := conn.Exec(ctx, `INSERT INTO stations (station, line) VALUES ($1, $2)
		ON CONFLICT (station) DO UPDATE SET line = EXCLUDED.line, last_seen = now()`, station, line)
	return err
}

// Connect connects to the central database at dsn (giving up after
// connWait) and brings its schema up to date: the connection every
// plant-wide query (History, Report, VerifyStation, Retire, …) takes.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, connWait)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// Migrate brings the central schema up to date; several stations may
// start at once (an advisory lock orders them).
func Migrate(ctx context.Context, conn *pgx.Conn) error { return migrateTo(ctx, conn, len(migrations)) }

// migrateTo brings the schema up to version n.
func migrateTo(ctx context.Context, conn *pgx.Conn, n int) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7336071)`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return err
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return err
	}
	for ; v < n; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("central schema version %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// Forwarder sends one station's trail to the central database.
type Forwarder struct {
	url           string
	station, line string
	store         *audit.Store
	sink          string
	months        partitions

	mu      sync.Mutex
	status  string
	waiting int64
	up      bool
}

// batchSize is the most entries one central transaction takes.
const batchSize = 500

// New makes the forwarder of store's trail to the PostgreSQL at dsn
// (postgres://user:password@host:port/db) as station ("": the host
// name), on production line line ("" for none).
func New(dsn, station, line string, store *audit.Store) (*Forwarder, error) {
	if store == nil {
		return nil, errors.New("central: forwarding needs the station's audit trail (it is the outbox)")
	}
	station, err := checkIdentity(dsn, station, line)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(dsn)
	return &Forwarder{url: dsn, station: station, line: line, store: store, sink: "central " + u.Host + u.Path + " " + station,
		status: "central database: not connected yet"}, nil
}

// IsURL says whether s names a PostgreSQL database rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// checkIdentity refuses a URL that is not PostgreSQL's and names that do
// not fit, and gives the station's name (the host name for "").
func checkIdentity(dsn, station, line string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || !IsURL(dsn) || u.Host == "" {
		return "", fmt.Errorf("central: %q is not a postgres://user:password@host:port/database URL", redact(dsn))
	}
	if station == "" {
		if station, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("central: no station name and no host name: %v", err)
		}
	}
	if station == "" || len(station) > 64 {
		return "", fmt.Errorf("central: station name %q must be 1 to 64 characters", station)
	}
	if len(line) > 64 {
		return "", fmt.Errorf("central: line name %q must be at most 64 characters", line)
	}
	return station, nil
}

// redact hides a URL's password.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
}

// Status is the forwarder's state in one line: connected or not, and how
// many trail entries wait to be forwarded.
func (f *Forwarder) Status() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.up
}

// Waiting is how many trail entries the central database has not taken
// yet, as of the last look.
func (f *Forwarder) Waiting() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}

func (f *Forwarder) set(up bool, waiting int64, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up, f.waiting = up, waiting
	f.status = fmt.Sprintf(format, args...)
}

// Timing of the forwarder.
const (
	pollEvery  = time.Second
	connWait   = 10 * time.Second
	maxBackoff = 30 * time.Second
)

// Run forwards until ctx is done: it connects (retrying with growing
// pauses, each failure in Status), migrates the schema, and follows the
// trail.
func (f *Forwarder) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := f.session(ctx)
		if ctx.Err() != nil {
			break
		}
		waiting := f.pending(ctx)
		f.set(false, waiting, "central database %s: %v; %d record(s) waiting; retrying in %s",
			redact(f.url), explain(err), waiting, backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

// explain turns PostgreSQL's refusals into what to check.
func explain(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "28P01" {
		return "the database refused the user name or password"
	}
	msg := err.Error()
	if strings.Contains(msg, "password authentication failed") {
		return "the database refused the user name or password"
	}
	if strings.Contains(msg, "connection refused") {
		return "nothing listens there (connection refused)"
	}
	return msg
}

// pending counts the trail entries after this sink's mark.
func (f *Forwarder) pending(ctx context.Context) int64 {
	head, err := f.store.ChainHead(context.WithoutCancel(ctx))
	if err != nil {
		return 0
	}
	mark, err := f.store.Delivered(context.WithoutCancel(ctx), f.sink)
	if err != nil {
		return 0
	}
	return head - mark
}

// session is one connection: migrate, then forward until an error.
func (f *Forwarder) session(ctx context.Context) error {
	conn, err := Connect(ctx, f.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := register(ctx, conn, f.station, f.line); err != nil {
		return err
	}
	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	for {
		done, err := f.forward(ctx, conn)
		if err != nil {
			return err
		}
		waiting := f.pending(ctx)
		f.set(true, waiting, "central database %s: connected as station %s, %d record(s) waiting", redact(f.url), f.station, waiting)
		if done {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-f.store.Changes():
			case <-ticker.C:
			}
		}
	}
}

// forward sends one batch; done says the trail has no more.
func (f *Forwarder) forward(ctx context.Context, conn *pgx.Conn) (bool, error) {
	mark, err := f.store.Delivered(ctx, f.sink)
	if err != nil {
		return false, err
	}
	entries, err := f.store.ChainAfter(ctx, mark, batchSize)
	if err != nil || len(entries) == 0 {
		return true, err
	}
	times := make([]time.Time, len(entries))
	for k, e := range entries {
		times[k] = e.RecordedAt()
	}
	if err := f.months.ensure(ctx, conn, times...); err != nil {
		return false, err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		head, err := lockHead(ctx, tx, f.station)
		if err != nil {
			return err
		}
		k, err := alreadyThere(ctx, tx, f.station, head, entries)
		if err != nil {
			return err
		}
		return appendEntries(ctx, tx, f.station, head, entries[k:], times[k:])
	})
	if err != nil {
		return false, err
	}
	if err := f.store.SetDelivered(ctx, f.sink, entries[len(entries)-1].Seq); err != nil {
		return false, err
	}
	return len(entries) < batchSize, nil
}

// VerifyStation checks one station's central copy of the trail: every
// entry's hash and its link to the one before (audit.VerifyChain's
// rules), in seq order.
func VerifyStation(ctx context.Context, conn *pgx.Conn, station string) (*audit.Verification, error) {
	// the station's chain starts after its last retired month, if any
	var after string
	err := conn.QueryRow(ctx, `SELECT last_hash FROM retired WHERE station = $1 ORDER BY last_seq DESC LIMIT 1`, station).Scan(&after)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT seq, kind, row_id, payload, prev, hash FROM trail WHERE station = $1 ORDER BY seq`, station)
	if err != nil {
		return nil, err
	}
	// one entry at a time: ten years of a station need not fit in memory
	v := &audit.Verification{Head: after, ByKind: map[string]int{}}
	var e audit.ChainEntry
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &e.Kind, &e.RowID, &e.Payload, &e.Prev, &e.Hash}, func() error {
		v.Check(e)
		return nil
	})
	return v, err
}

// Stations lists the stations with a trail in the central database, by
// name.
func Stations(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT station FROM heads WHERE seq > 0 ORDER BY station`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Drain waits until every entry the trail held when it was called has
// been forwarded, or ctx is done: then it says how many wait and why.
func (f *Forwarder) Drain(ctx context.Context) error {
	n, err := f.store.WaitDelivered(ctx, f.sink)
	if err != nil || n == 0 {
		return err
	}
	s, _ := f.Status()
	return fmt.Errorf("%d trail entries not yet forwarded to the central database (they stay queued in the audit trail and go with the next run): %s", n, s)
}

// Query selects inspections across stations.
type Query struct {
	audit.Query
	Station string // "" any
	Line    string // "" any
}

// History is every station's inspections matching q, by station and id,
// as the audit trail names them, each with its station.
func History(ctx context.Context, conn *pgx.Conn, q Query) ([]audit.Inspection, error) {
	var out []audit.Inspection
	err := EachInspection(ctx, conn, q, func(in *audit.Inspection) error {
		out = append(out, *in)
		return nil
	})
	return out, err
}

// EachInspection calls fn with each inspection matching q, by station and
// id, one at a time (a plant's export holds one row in memory, not all).
func EachInspection(ctx context.Context, conn *pgx.Conn, q Query, fn func(*audit.Inspection) error) error {
	where := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Station != "" {
		where = append(where, "station = "+arg(q.Station))
	}
	if q.Line != "" {
		where = append(where, "station IN (SELECT station FROM stations WHERE line = "+arg(q.Line)+")")
	}
	from := inspectionsIn(arg, q.Since, q.Until)
	if d, ok := q.Decision.Get(); ok {
		where = append(where, "COALESCE(review->>'decision', p->>'auto_decision') = "+arg(d.String()))
	}
	if q.Operator != "" {
		where = append(where, "lower(review->>'operator') = lower("+arg(strings.TrimSpace(q.Operator))+")")
	}
	sql := `SELECT station, seq, hash, p::text, COALESCE(review::text, '') FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY station, id`
	if q.Limit > 0 {
		sql += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	var station, hash, p, review string
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&station, &seq, &hash, &p, &review}, func() error {
		in, err := audit.InspectionFromPayload(p, review)
		if err != nil {
			return fmt.Errorf("station %s, trail entry %d: %v", station, seq, err)
		}
		in.Station, in.ChainSeq, in.ChainHash = station, seq, hash
		return fn(&in)
	})
	return err
}
