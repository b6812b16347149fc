package central

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/audit"
)

// Retiring months past retention. A month's partition is dropped whole,
// but only after every station's part of it has been archived (each
// part a chain file, written and read back by the caller) and only when
// that part follows the station's previous retired month: the table
// retired keeps, per station and month, the hash its part starts after
// and the hash it ends with, so the archived files and what stays in the
// database still verify as one chain (VerifyStation starts after the
// last retired month; history verify --chain FILE --after HASH checks an
// archived part).

// RetiredPart is one station's part of a retired month.
type RetiredPart struct {
	Station, Month string // Month: 2016-11
	Entries        int64
	FirstSeq       int64
	FirstPrev      string // the hash of the entry before the part's first
	LastSeq        int64
	LastHash       string
	Archive        string // where it was archived
}

// PartWriter archives one station's part of a month, entry by entry.
type PartWriter interface {
	Write(e audit.ChainEntry) error
	// Close makes the archive durable and says where it is; the month
	// is dropped only after every part's Close succeeded.
	Close() (string, error)
	// Abort removes an archive not closed.
	Abort()
}

// ArchivePart opens the archive of a station's part of a month.
type ArchivePart func(station, month string) (PartWriter, error)

// Retire drops the trail's months that end on or before before, oldest
// first, each after every station's part of it has been archived, and
// records the parts in retired. It stops at the first month it cannot
// retire safely (a part that does not follow its station's last retired
// part, or an archive that fails), with what it retired until then.
func Retire(ctx context.Context, conn *pgx.Conn, before time.Time, archive ArchivePart) ([]RetiredPart, error) {
	months, err := monthsBefore(ctx, conn, before)
	if err != nil {
		return nil, err
	}
	var done []RetiredPart
	for _, m := range months {
		parts, err := retireMonth(ctx, conn, m, archive)
		if err != nil {
			return done, fmt.Errorf("month %s not retired: %w", m.label, err)
		}
		done = append(done, parts...)
	}
	return done, nil
}

type monthPartition struct{ name, label string }

// monthsBefore lists the month partitions that end on or before before,
// oldest first.
func monthsBefore(ctx context.Context, conn *pgx.Conn, before time.Time) ([]monthPartition, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'trail'::regclass`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []monthPartition
	for _, n := range names {
		from, err := time.Parse("trail_2006_01", n)
		if err != nil {
			continue // not a month this program made
		}
		if !from.AddDate(0, 1, 0).After(before) {
			out = append(out, monthPartition{n, from.Format("2006-01")})
		}
	}
	return out, nil
}

// retireMonth archives every station's part of month m, records them and
// drops the partition, in one transaction.
func retireMonth(ctx context.Context, conn *pgx.Conn, m monthPartition, archive ArchivePart) ([]RetiredPart, error) {
	var parts []RetiredPart
	table := pgx.Identifier{m.name}.Sanitize()
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT station FROM `+table+` ORDER BY station`)
		if err != nil {
			return err
		}
		stations, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, st := range stations {
			p, err := retirePart(ctx, tx, table, st, m.label, archive)
			if err != nil {
				return err
			}
			parts = append(parts, p)
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE trail DETACH PARTITION `+table); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DROP TABLE `+table)
		return err
	})
	return parts, err
}

// retirePart archives a station's part of a month, entry by entry, each
// checked to follow the one before (the first: the station's last
// retired entry), and records it.
func retirePart(ctx context.Context, tx pgx.Tx, table, station, month string, archive ArchivePart) (RetiredPart, error) {
	p := RetiredPart{Station: station, Month: month}
	err := tx.QueryRow(ctx, `SELECT last_hash FROM retired WHERE station = $1 ORDER BY last_seq DESC LIMIT 1`, station).Scan(&p.FirstPrev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, err
	}
	w, err := archive(station, month)
	if err != nil {
		return p, fmt.Errorf("station %s: archive: %w", station, err)
	}
	rows, err := tx.Query(ctx, `SELECT seq, kind, row_id, payload, prev, hash FROM `+table+` WHERE station = $1 ORDER BY seq`, station)
	if err != nil {
		w.Abort()
		return p, err
	}
	var e audit.ChainEntry
	p.LastHash = p.FirstPrev
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &e.Kind, &e.RowID, &e.Payload, &e.Prev, &e.Hash}, func() error {
		if !audit.Follows(p.LastHash, e) {
			return fmt.Errorf("station %s's entry %d does not follow the entry before it (or its last retired month): the month is kept; see history verify --central", station, e.Seq)
		}
		if p.Entries == 0 {
			p.FirstSeq = e.Seq
		}
		p.Entries++
		p.LastSeq, p.LastHash = e.Seq, e.Hash
		return w.Write(e)
	})
	if err == nil {
		p.Archive, err = w.Close()
	}
	if err != nil {
		w.Abort()
		return p, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO retired (station, month, entries, first_seq, first_prev, last_seq, last_hash, archive)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, p.Station, p.Month, p.Entries, p.FirstSeq, p.FirstPrev, p.LastSeq, p.LastHash, p.Archive)
	return p, err
}
