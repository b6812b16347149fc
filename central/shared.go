package central

import (
	"context"
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
// Instances take turns on the station's head row (heads, partition.go):
// each locks it, appends after it and moves it, so the chain cannot
// fork. A record is durable when Add returns (PostgreSQL's commit).
type SharedTrail struct {
	pool          *pgxpool.Pool
	station, line string
	months        partitions
}

// OpenShared connects to the PostgreSQL at dsn, brings the central schema
// up to date and registers the station ("": the host name) with its line
// ("" for none).
func OpenShared(ctx context.Context, dsn, station, line string) (*SharedTrail, error) {
	station, err := checkIdentity(dsn, station, line)
	if err != nil {
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

// Add records an inspection in the shared trail, with its defect class
// when it has one (a "class" entry right after it, as a station's own
// trail chains it), and returns its id, once it is committed.
func (t *SharedTrail) Add(ctx context.Context, in audit.Inspection) (int64, error) {
	if in.InspectedAt.IsZero() {
		in.InspectedAt = time.Now()
	}
	var id int64
	err := t.append(ctx, in.InspectedAt, func(head stationHead) ([]audit.ChainEntry, error) {
		id = head.rowIDs["inspection"] + 1
		e, err := audit.InspectionEntry(head.last, id, in)
		if err != nil || in.DefectClass == "" {
			return []audit.ChainEntry{e}, err
		}
		c, err := audit.ClassEntry(e, head.rowIDs["class"]+1, id, in)
		return []audit.ChainEntry{e, c}, err
	})
	if err != nil {
		return 0, fmt.Errorf("record inspection of %s in the shared trail: %s", in.Path, explain(err))
	}
	return id, nil
}

// AddPurge records that an instance's archive removed a file.
func (t *SharedTrail) AddPurge(ctx context.Context, path string, bytes int64, reason string) error {
	at := time.Now()
	err := t.append(ctx, at, func(head stationHead) ([]audit.ChainEntry, error) {
		e, err := audit.PurgeEntry(head.last, head.rowIDs["purge"]+1, at, path, bytes, reason)
		return []audit.ChainEntry{e}, err
	})
	if err != nil {
		return fmt.Errorf("record purge of %s in the shared trail: %s", path, explain(err))
	}
	return nil
}

// append chains rows recorded at at after the station's head, in one
// transaction that holds the head: entries makes them from the head (its
// last entry, each kind's last row id).
func (t *SharedTrail) append(ctx context.Context, at time.Time, entries func(head stationHead) ([]audit.ChainEntry, error)) error {
	if err := t.months.ensure(ctx, t.pool, at); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		head, err := lockHead(ctx, tx, t.station)
		if err != nil {
			return err
		}
		list, err := entries(head)
		if err != nil {
			return err
		}
		times := make([]time.Time, len(list))
		for k, e := range list {
			times[k] = e.RecordedAt()
		}
		return appendEntries(ctx, tx, t.station, head, list, times)
	})
}
