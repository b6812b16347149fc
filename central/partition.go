package central

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"steelinspect/audit"
)

// The central trail is partitioned by month, for a plant's ten years of
// records: each entry is filed by its own time (recorded_at: the row's
// inspected_at, decided_at, … from its payload, never its arrival, so an
// entry sent again lands in the same month), queries for a period read
// only its months, and a month past retention is dropped whole. A
// partition is created, with the month after it, when the first entry of
// the month arrives.
//
// Partitioning gives up a unique (station, seq) across months, so the
// table heads keeps each station's last entry and every delivery must
// follow it: the next seq, linked to the head's hash. An entry sent
// again (seq at or below the head) must match the copy there. A second
// station forwarding under a name already taken, or a station whose trail
// was replaced, is refused instead of forking the chain.

// recordedAtSQL is the SQL for an entry's recorded_at, the same time
// audit.ChainEntry.RecordedAt reads (the kind's time column).
func recordedAtSQL() string {
	cols := audit.TimeColumns()
	kinds := make([]string, 0, len(cols))
	for k := range cols {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	b.WriteString("COALESCE((payload::jsonb->>(CASE kind")
	for _, k := range kinds {
		fmt.Fprintf(&b, " WHEN '%s' THEN '%s'", k, cols[k])
	}
	b.WriteString(" END))::timestamptz, 'epoch'::timestamptz)")
	return b.String()
}

// partitionByMonthSQL is schema version 4: the trail, until then one
// table, moved into monthly partitions (one per month it holds), the
// stations' heads, and the view again over the new table.
func partitionByMonthSQL() string {
	at := recordedAtSQL()
	return `DROP VIEW inspections;
	ALTER TABLE trail RENAME TO trail_unpartitioned;
	ALTER INDEX trail_pkey RENAME TO trail_unpartitioned_pkey;
	ALTER INDEX trail_kind RENAME TO trail_unpartitioned_kind;
	CREATE TABLE trail (
		station     text        NOT NULL,
		seq         bigint      NOT NULL,
		kind        text        NOT NULL,
		row_id      bigint      NOT NULL,
		payload     text        NOT NULL,
		prev        text        NOT NULL,
		hash        text        NOT NULL,
		recorded_at timestamptz NOT NULL,
		received_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (station, seq, recorded_at)
	) PARTITION BY RANGE (recorded_at);
	CREATE INDEX trail_kind ON trail (kind, station, row_id);
	CREATE INDEX trail_recorded ON trail (kind, recorded_at);
	CREATE TABLE heads (
		station text   PRIMARY KEY,
		seq     bigint NOT NULL,
		hash    text   NOT NULL
	);
	DO $$
	DECLARE m timestamptz;
	BEGIN
		FOR m IN SELECT DISTINCT date_trunc('month', ` + at + `, 'UTC') FROM trail_unpartitioned LOOP
			EXECUTE format('CREATE TABLE %I PARTITION OF trail FOR VALUES FROM (%L) TO (%L)',
				'trail_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'), m, (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
		END LOOP;
	END $$;
	INSERT INTO trail (station, seq, kind, row_id, payload, prev, hash, recorded_at, received_at)
		SELECT station, seq, kind, row_id, payload, prev, hash, ` + at + `, received_at FROM trail_unpartitioned;
	INSERT INTO heads (station, seq, hash)
		SELECT DISTINCT ON (station) station, seq, hash FROM trail_unpartitioned ORDER BY station, seq DESC;
	DROP TABLE trail_unpartitioned;
	CREATE VIEW inspections AS ` + inspectionsSQL("", "") + `;`
}

// inspectionsSQL is every station's inspections with the operator's
// decision in force (the newest decision entry, when it is a review),
// limited to the inspections and decisions recorded where inWhere and
// dWhere say ("" for all): a decision comes after its inspection, so a
// period's inspections need only the decisions since the period began.
func inspectionsSQL(inWhere, dWhere string) string {
	and := func(w string) string {
		if w == "" {
			return ""
		}
		return " AND " + w
	}
	return `WITH d AS (
		SELECT DISTINCT ON (station, (payload::jsonb->>'inspection_id')::bigint)
			station, (payload::jsonb->>'inspection_id')::bigint AS inspection_id, payload::jsonb AS p
		FROM trail WHERE kind = 'decision'` + and(dWhere) + `
		ORDER BY station, (payload::jsonb->>'inspection_id')::bigint, seq DESC)
	SELECT t.station, t.seq, t.hash, t.row_id AS id, t.payload::jsonb AS p, t.recorded_at,
		CASE WHEN d.p->>'kind' = 'review' THEN d.p ELSE NULL END AS review
	FROM trail t LEFT JOIN d ON d.station = t.station AND d.inspection_id = t.row_id
	WHERE t.kind = 'inspection'` + and(inWhere)
}

// inspectionsIn is inspectionsSQL for the period [since, until) (a zero
// time leaves that end open) as a subquery named inspections; arg adds a
// query argument and gives its placeholder.
func inspectionsIn(arg func(any) string, since, until time.Time) string {
	var in, d []string
	if !since.IsZero() {
		a := arg(since)
		in = append(in, "t.recorded_at >= "+a)
		d = append(d, "recorded_at >= "+a)
	}
	if !until.IsZero() {
		in = append(in, "t.recorded_at < "+arg(until))
	}
	return "(" + inspectionsSQL(strings.Join(in, " AND "), strings.Join(d, " AND ")) + ") AS inspections"
}

// dbtx is a connection or a pool.
type dbtx interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// partitions creates the trail's month partitions as entries need them,
// remembering those it has seen.
type partitions struct {
	mu    sync.Mutex
	known map[string]bool
}

// month is the partition of entries recorded at t: its name and range
// (UTC months).
func month(t time.Time) (string, time.Time, time.Time) {
	t = t.UTC()
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return "trail_" + from.Format("2006_01"), from, from.AddDate(0, 1, 0)
}

// ensure makes sure the partitions of times exist, with the month after
// each (so that the turn of a month rarely waits for one), each created
// in its own short transaction.
func (p *partitions) ensure(ctx context.Context, db dbtx, times ...time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known == nil {
		p.known = map[string]bool{}
	}
	for _, t := range times {
		for _, at := range []time.Time{t, t.UTC().AddDate(0, 1, 0)} {
			name, from, to := month(at)
			if p.known[name] {
				continue
			}
			if err := createPartition(ctx, db, name, from, to); err != nil {
				return fmt.Errorf("partition %s: %w", name, err)
			}
			p.known[name] = true
		}
	}
	return nil
}

func createPartition(ctx context.Context, db dbtx, name string, from, to time.Time) error {
	var exists bool
	if err := db.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil || exists {
		return err
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7336073)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF trail FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return err
	})
}

// stationHead is a station's last central entry and the last row id of
// each kind it has recorded (which a shared trail continues from, even
// once the months that hold them are retired).
type stationHead struct {
	last   audit.ChainEntry
	rowIDs map[string]int64
}

// lockHead reads station's head and holds it until tx ends (the zero
// head for a station with none).
func lockHead(ctx context.Context, tx pgx.Tx, station string) (stationHead, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO heads (station, seq, hash) VALUES ($1, 0, '') ON CONFLICT (station) DO NOTHING`, station); err != nil {
		return stationHead{}, err
	}
	var h stationHead
	err := tx.QueryRow(ctx, `SELECT seq, hash, row_ids FROM heads WHERE station = $1 FOR UPDATE`, station).Scan(&h.last.Seq, &h.last.Hash, &h.rowIDs)
	return h, err
}

// appendEntries writes entries, recorded at times (each one's
// RecordedAt), which must follow the head, and moves the station's head
// to the last of them.
func appendEntries(ctx context.Context, tx pgx.Tx, station string, head stationHead, entries []audit.ChainEntry, times []time.Time) error {
	if len(entries) == 0 {
		return nil
	}
	if e := entries[0]; e.Seq != head.last.Seq+1 || e.Prev != head.last.Hash {
		return fmt.Errorf("station %s's entry %d does not follow its last entry in the central database (%d): another station forwards as %s, or this station's trail was replaced (give each its own --station)",
			station, e.Seq, head.last.Seq, station)
	}
	batch := &pgx.Batch{}
	rowIDs := map[string]int64{}
	for k, e := range entries {
		batch.Queue(`INSERT INTO trail (station, seq, kind, row_id, payload, prev, hash, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			station, e.Seq, e.Kind, e.RowID, e.Payload, e.Prev, e.Hash, times[k])
		rowIDs[e.Kind] = max(rowIDs[e.Kind], e.RowID)
	}
	last := entries[len(entries)-1]
	batch.Queue(`UPDATE heads SET seq = $2, hash = $3, row_ids = row_ids || $4::jsonb WHERE station = $1`, station, last.Seq, last.Hash, rowIDs)
	batch.Queue(`UPDATE stations SET last_seen = now() WHERE station = $1`, station)
	return tx.SendBatch(ctx, batch).Close()
}

// alreadyThere is how many of entries (from the first) the central
// database already holds (at or below head), each of which must be the
// same entry.
func alreadyThere(ctx context.Context, tx pgx.Tx, station string, head stationHead, entries []audit.ChainEntry) (int, error) {
	k := 0
	for k < len(entries) && entries[k].Seq <= head.last.Seq {
		k++
	}
	if k == 0 {
		return 0, nil
	}
	seqs := make([]int64, k)
	for i, e := range entries[:k] {
		seqs[i] = e.Seq
	}
	rows, err := tx.Query(ctx, `SELECT seq, hash FROM trail WHERE station = $1 AND seq = ANY($2)`, station, seqs)
	if err != nil {
		return 0, err
	}
	there := map[int64]string{}
	var seq int64
	var hash string
	if _, err := pgx.ForEachRow(rows, []any{&seq, &hash}, func() error { there[seq] = hash; return nil }); err != nil {
		return 0, err
	}
	for _, e := range entries[:k] {
		if h, ok := there[e.Seq]; !ok || h != e.Hash {
			return 0, fmt.Errorf("trail entry %d of station %s in the central database is not this station's: another station forwards as %s, or this station's trail was replaced (give each its own --station)",
				e.Seq, station, station)
		}
	}
	return k, nil
}
