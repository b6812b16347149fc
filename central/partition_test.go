package central

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/audit"
	"steelinspect/internal/testpg"
	"steelinspect/verdict"
)

// TestTrailMovedIntoMonths: a central database of schema version 3 (one
// trail table) holding a station's October and November is migrated: the
// entries move into month partitions, the chain still verifies, a period
// reads its months only, and forwarding goes on where it stopped, a
// December entry opening its month.
func TestTrailMovedIntoMonths(t *testing.T) {
	pg := testpg.Start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL(testpg.Password))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := migrateTo(ctx, conn, 3); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	add := func(name string, at time.Time) int64 {
		id, err := store.Add(ctx, audit.Inspection{InspectedAt: at, Source: "watch", Path: name, ModelName: "m", ModelVersion: "1",
			PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.9, AutoDecision: verdict.Reject})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	add("oct.png", time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC))
	nov := add("nov.png", time.Date(2026, 11, 2, 23, 30, 0, 0, time.FixedZone("CET", 3600)))
	if err := store.Review(ctx, nov, verdict.Pass, "Ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	old, err := store.Chain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range old { // as version 3's forwarder wrote them
		if _, err := conn.Exec(ctx, `INSERT INTO trail (station, seq, kind, row_id, payload, prev, hash) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			"old", e.Seq, e.Kind, e.RowID, e.Payload, e.Prev, e.Hash); err != nil {
			t.Fatal(err)
		}
	}
	if err := Migrate(ctx, conn); err != nil {
		t.Fatalf("migrating to months: %v", err)
	}
	parts := func() map[string]int {
		rows, _ := conn.Query(ctx, `SELECT c.relname, (SELECT COUNT(*) FROM trail WHERE tableoid = c.oid)
			FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'trail'::regclass`)
		out := map[string]int{}
		var name string
		var n int
		pgx.ForEachRow(rows, []any{&name, &n}, func() error { out[name] = n; return nil })
		return out
	}
	// the inspections file in their months, the review (decided now) in this one
	_, _, next := month(time.Now())
	nowMonth, _, _ := month(time.Now())
	want := map[string]int{"trail_2026_10": 1, "trail_2026_11": 1}
	want[nowMonth]++
	p := parts()
	for name, n := range want {
		if p[name] != n {
			t.Errorf("partitions after the migration: %v, want %v", p, want)
		}
	}
	if _, made := p["trail_"+next.Format("2006_01")]; made || len(p) != len(want) {
		t.Errorf("partitions after the migration: %v, want only the months with entries", p)
	}
	if v, err := VerifyStation(ctx, conn, "old"); err != nil || len(v.Problems) > 0 || v.Entries != len(old) {
		t.Fatalf("verify after the migration: %v %+v", err, v)
	}
	var ids map[string]int64
	if err := conn.QueryRow(ctx, `SELECT row_ids FROM heads WHERE station = 'old'`).Scan(&ids); err != nil || ids["inspection"] != 2 || ids["decision"] != 1 {
		t.Errorf("the head's last row ids after the migration: %v %v", ids, err)
	}
	got, err := History(ctx, conn, Query{Query: audit.Query{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil || len(got) != 1 || got[0].Path != "nov.png" || got[0].FinalDecision() != verdict.Pass {
		t.Fatalf("November on: %v %+v", err, got)
	}

	// forwarding goes on from the head the migration kept
	f, _ := New(pg.URL(testpg.Password), "old", "", store)
	if err := store.SetDelivered(ctx, f.sink, old[len(old)-1].Seq); err != nil {
		t.Fatal(err)
	}
	add("dec.png", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	forward(t, f)
	wantDec := 1
	if nowMonth == "trail_2026_12" {
		wantDec++ // the review, decided now
	}
	waitFor(t, "December forwarded", func() bool { return parts()["trail_2026_12"] == wantDec })
	if _, ok := parts()["trail_2027_01"]; !ok {
		t.Errorf("the month after December was not made ahead: %v", parts())
	}
	if v, err := VerifyStation(ctx, conn, "old"); err != nil || len(v.Problems) > 0 || v.Entries != len(old)+1 {
		t.Errorf("verify after forwarding on: %v %+v", err, v)
	}
}

// TestRecordedAtAgreesWithTheDatabase: the month an entry is filed in is
// the same whether Go (forwarding) or SQL (the migration) reads its time.
func TestRecordedAtAgreesWithTheDatabase(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	store := openStore(t)
	ctx := context.Background()
	id, err := store.Add(ctx, audit.Inspection{InspectedAt: time.Date(2026, 1, 31, 23, 59, 59, 999999000, time.FixedZone("", -5*3600)),
		Source: "scan", Path: "a.png", ModelName: "m", ModelVersion: "1", AutoDecision: verdict.Pass})
	if err != nil {
		t.Fatal(err)
	}
	store.Review(ctx, id, verdict.Reject, "Bo", "scale pressed in, seen on the coil")
	store.AddSettingChange(ctx, "sup", "pass_threshold", "0.40", "0.42")
	store.AddPurge(ctx, "x.png", 10, "retention")
	chain, _ := store.Chain(ctx)
	for _, e := range chain {
		var db time.Time
		if err := conn.QueryRow(ctx, `SELECT `+recordedAtSQL()+` FROM (SELECT $1::text AS kind, $2::text AS payload) AS e`, e.Kind, e.Payload).Scan(&db); err != nil {
			t.Fatal(err)
		}
		if !db.Equal(e.RecordedAt()) || e.RecordedAt().Equal(time.Unix(0, 0)) {
			t.Errorf("%s entry: SQL %v, Go %v", e.Kind, db, e.RecordedAt())
		}
	}
	if len(chain) != 4 {
		t.Errorf("chain of %d entries, want 4", len(chain))
	}
}

// memoryPart archives into memory; fail makes its Close fail.
type memoryPart struct {
	parts   map[string][]audit.ChainEntry
	key     string
	entries []audit.ChainEntry
	fail    bool
}

func (m *memoryPart) Write(e audit.ChainEntry) error { m.entries = append(m.entries, e); return nil }
func (m *memoryPart) Close() (string, error) {
	if m.fail {
		return "", errors.New("disk full")
	}
	m.parts[m.key] = m.entries
	return "memory:" + m.key, nil
}
func (m *memoryPart) Abort() {}

// TestRetireMonths: months past retention are archived part by part and
// dropped; what stays verifies after the last retired entry, the archived
// parts verify after their recorded hashes, a failing archive keeps its
// month, and the month in progress is never retired.
func TestRetireMonths(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	ctx := context.Background()
	m0 := time.Date(time.Now().UTC().Year(), time.Now().UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	stores := map[string]*audit.Store{"s1": openStore(t), "s2": openStore(t)}
	for name, s := range stores {
		for k, at := range []time.Time{m0.AddDate(0, -3, 3), m0.AddDate(0, -3, 20), m0.AddDate(0, -2, 5), m0.AddDate(0, 0, 0).Add(time.Hour)} {
			if _, err := s.Add(ctx, audit.Inspection{InspectedAt: at, Source: "watch", Path: fmt.Sprintf("%s-%d.png", name, k),
				ModelName: "m", ModelVersion: "1", AutoDecision: verdict.Pass}); err != nil {
				t.Fatal(err)
			}
		}
		f, _ := New(pg.URL(testpg.Password), name, "", s)
		forward(t, f)
		waitFor(t, name, func() bool { n, _ := centralCount(t, conn, name); return n == 4 })
	}
	archived := map[string][]audit.ChainEntry{}
	failing := true
	open := func(station, month string) (PartWriter, error) {
		return &memoryPart{parts: archived, key: station + " " + month, fail: failing && station == "s2"}, nil
	}
	if done, err := Retire(ctx, conn, m0.AddDate(0, -1, 0), open); err == nil || len(done) != 0 || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a failing archive: %v, %+v", err, done)
	}
	if n, _ := centralCount(t, conn, "s1"); n != 4 {
		t.Fatalf("a month was dropped although an archive failed: s1 has %d entries", n)
	}
	failing = false
	done, err := Retire(ctx, conn, m0.AddDate(0, -1, 0), open)
	if err != nil || len(done) != 4 {
		t.Fatalf("retire: %v, %+v", err, done)
	}
	for _, p := range done {
		entries := archived[p.Station+" "+p.Month]
		if v := audit.VerifyEntries(p.FirstPrev, entries); len(v.Problems) > 0 || int64(len(entries)) != p.Entries || v.Head != p.LastHash {
			t.Errorf("archived part %+v: %+v", p, v)
		}
	}
	if p := done[0]; p.Station != "s1" || p.Month != m0.AddDate(0, -3, 0).Format("2006-01") || p.Entries != 2 || p.FirstPrev != "" {
		t.Errorf("first part %+v", p)
	}
	for name := range stores {
		if n, _ := centralCount(t, conn, name); n != 1 {
			t.Errorf("%s keeps %d entries, want the current month's 1", name, n)
		}
		if v, err := VerifyStation(ctx, conn, name); err != nil || len(v.Problems) > 0 || v.Entries != 1 {
			t.Errorf("%s after retiring: %v %+v", name, err, v)
		}
	}
	if again, err := Retire(ctx, conn, m0, open); err != nil || len(again) != 0 {
		t.Errorf("the month in progress: %v %+v", err, again)
	}
}

// TestSharedTrailIDsAfterRetiring: a shared trail whose every month has
// been retired goes on with the next id, not with 1 again.
func TestSharedTrailIDsAfterRetiring(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	ctx := context.Background()
	tr, err := OpenShared(ctx, pg.URL(testpg.Password), "api-old", "")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	m0 := time.Date(time.Now().UTC().Year(), time.Now().UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	for k := range 3 {
		if _, err := tr.Add(ctx, audit.Inspection{InspectedAt: m0.AddDate(0, -4, k+1), Source: "api", Path: "old.png", ModelName: "m",
			ModelVersion: "1", AutoDecision: verdict.Pass}); err != nil {
			t.Fatal(err)
		}
	}
	archived := map[string][]audit.ChainEntry{}
	done, err := Retire(ctx, conn, m0.AddDate(0, -1, 0), func(station, month string) (PartWriter, error) {
		return &memoryPart{parts: archived, key: station + " " + month}, nil
	})
	if err != nil || len(done) != 1 || done[0].Entries != 3 {
		t.Fatalf("retire: %v %+v", err, done)
	}
	id, err := tr.Add(ctx, audit.Inspection{Source: "api", Path: "new.png", ModelName: "m", ModelVersion: "1", AutoDecision: verdict.Pass})
	if err != nil || id != 4 {
		t.Fatalf("after retiring every month: id %d, %v; want 4", id, err)
	}
	if v, err := VerifyStation(ctx, conn, "api-old"); err != nil || len(v.Problems) > 0 || v.Entries != 1 {
		t.Errorf("verify: %v %+v", err, v)
	}
}
