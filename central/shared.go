package central

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"steelinspect/audit"
)

// SharedTrail is an audit trail kept in the central PostgreSQL itself,
// for API instances (serve --db postgres://…) behind a load balancer:
// each instance records its decisions there, as one station, in one
// hash chain. The entries are the ones a station's own trail would chain
// for the same records (audit.InspectionEntry), so the central history,
// report and VerifyStation read them as they read a forwarded station's.
//
// Instances order their appends with a transaction-level advisory lock
// per station: each reads the chain's head and appends after it, and
// the (station, seq) key refuses a fork should the lock ever be
// bypassed. A record is durable when Add returns (PostgreSQL's commit).
type SharedTrail struct {
	pool          *pgxpool.Pool
	station, line string
}

// OpenShared connects to the PostgreSQL at dsn, brings the central schema
// up to date and registers the station (with its line, "" for none).
func OpenShared(ctx context.Context, dsn, station, line string) (*SharedTrail, error) {
	if err := checkIdentity(dsn, station, line); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("central database %s: %v", redact(dsn), err)
	}
	cctx, cancel := context.WithTimeout(ctx, connWait)
	defer cancel()
	err = pool.AcquireFunc(cctx, func(c *pgxpool.Conn) error {
		if err := Migrate(cctx, c.Conn()); err != nil {
			return err
		}
		return register(cctx, c.Conn(), station, line)
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("central database %s: %s", redact(dsn), explain(err))
	}
	return &SharedTrail{pool: pool, station: station, line: line}, nil
}

// Close closes the trail's connections.
func (t *SharedTrail) Close() { t.pool.Close() }

// Station is the name the instances record as.
func (t *SharedTrail) Station() string { return t.station }

// Add records an inspection in the shared trail and returns its id, once
// it is committed.
func (t *SharedTrail) Add(ctx context.Context, in audit.Inspection) (int64, error) {
	var id int64
	err := t.append(ctx, "inspection", func(prev audit.ChainEntry, next int64) (audit.ChainEntry, error) {
		id = next
		return audit.InspectionEntry(prev, next, in)
	})
	if err != nil {
		return 0, fmt.Errorf("record inspection of %s in the shared trail: %s", in.Path, explain(err))
	}
	return id, nil
}

// AddPurge records that an instance's archive removed a file.
func (t *SharedTrail) AddPurge(ctx context.Context, path string, bytes int64, reason string) error {
	err := t.append(ctx, "purge", func(prev audit.ChainEntry, next int64) (audit.ChainEntry, error) {
		return audit.PurgeEntry(prev, next, time.Now(), path, bytes, reason)
	})
	if err != nil {
		return fmt.Errorf("record purge of %s in the shared trail: %s", path, explain(err))
	}
	return nil
}

// append chains one row of kind after the station's head, in one
// transaction that holds the station's lock: entry makes the entry from
// the head and the kind's next row id.
func (t *SharedTrail) append(ctx context.Context, kind string, entry func(prev audit.ChainEntry, next int64) (audit.ChainEntry, error)) error {
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7336072, hashtext($1))`, t.station); err != nil {
			return err
		}
		var prev audit.ChainEntry
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM trail WHERE station = $1 ORDER BY seq DESC LIMIT 1`, t.station).Scan(&prev.Seq, &prev.Hash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var next int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(row_id), 0) + 1 FROM trail WHERE kind = $1 AND station = $2`,
			kind, t.station).Scan(&next); err != nil {
			return err
		}
		e, err := entry(prev, next)
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `INSERT INTO trail (station, seq, kind, row_id, payload, prev, hash) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			t.station, e.Seq, e.Kind, e.RowID, e.Payload, e.Prev, e.Hash); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE stations SET last_seen = now() WHERE station = $1`, t.station)
		return err
	})
}
