package central

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/audit"
	"steelinspect/internal/testpg"
	"steelinspect/verdict"
)

func openStore(t *testing.T) *audit.Store {
	t.Helper()
	s, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t *testing.T, s *audit.Store, name string) int64 {
	t.Helper()
	id, err := s.Add(context.Background(), audit.Inspection{Source: "watch", Path: name, SHA256: strings.Repeat("a", 64),
		Width: 1600, Height: 256, Bytes: 1, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: "b",
		PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.9, MeanProbability: 0.5, AutoDecision: verdict.Reject})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// forward runs a forwarder until the test stops it.
func forward(t *testing.T, f *Forwarder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func connect(t *testing.T, pg *testpg.Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pg.URL(testpg.Password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if err := Migrate(context.Background(), conn); err != nil { // as the forwarders do; idempotent
		t.Fatal(err)
	}
	return conn
}

// centralCount is how many entries, and distinct seqs, the central
// database holds for station.
func centralCount(t *testing.T, conn *pgx.Conn, station string) (int64, int64) {
	t.Helper()
	var n, distinct int64
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT seq) FROM trail WHERE station = $1`, station).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	return n, distinct
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func head(t *testing.T, s *audit.Store) int64 {
	h, err := s.ChainHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestForwardingKeepsTheChain: records and a review reach the central
// database in order, and its copy of the station's chain verifies.
func TestForwardingKeepsTheChain(t *testing.T) {
	pg := testpg.Start(t)
	store := openStore(t)
	a := record(t, store, "a.jpg")
	f, err := New(pg.URL(testpg.Password), "line3-a", "", store)
	if err != nil {
		t.Fatal(err)
	}
	forward(t, f)
	record(t, store, "b.jpg")
	if err := store.Review(context.Background(), a, verdict.Pass, "ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, pg)
	waitFor(t, "the trail forwarded", func() bool { n, _ := centralCount(t, conn, "line3-a"); return n == head(t, store) })
	v, err := VerifyStation(context.Background(), conn, "line3-a")
	if err != nil || len(v.Problems) != 0 || v.Entries != 3 {
		t.Fatalf("central copy: %v %+v", err, v)
	}
	waitFor(t, "the status to say nothing waits", func() bool {
		s, up := f.Status()
		return up && strings.Contains(s, "0 record(s) waiting")
	})
	// a central row changed is found
	if _, err := conn.Exec(context.Background(), `UPDATE trail SET payload = replace(payload, 'REJECT', 'PASS') WHERE station = 'line3-a' AND seq = 1`); err != nil {
		t.Fatal(err)
	}
	if v, _ := VerifyStation(context.Background(), conn, "line3-a"); len(v.Problems) == 0 {
		t.Error("a changed central row verifies")
	}
}

// TestCentralDownAndBack: records made while the central database is
// down wait (counted in the status) and arrive once it is back: none lost,
// none twice; inspection never waits.
func TestCentralDownAndBack(t *testing.T) {
	pg := testpg.Start(t)
	store := openStore(t)
	f, _ := New(pg.URL(testpg.Password), "line3-b", "", store)
	forward(t, f)
	for k := range 3 {
		record(t, store, fmt.Sprintf("%d.jpg", k))
	}
	conn := connect(t, pg)
	waitFor(t, "the first 3", func() bool { n, _ := centralCount(t, conn, "line3-b"); return n == 3 })
	conn.Close(context.Background())
	pg.Stop()
	start := time.Now()
	for k := 3; k < 7; k++ {
		record(t, store, fmt.Sprintf("%d.jpg", k))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("recording waited %s on the central database", d)
	}
	waitFor(t, "the outage in the status", func() bool { s, up := f.Status(); return !up && strings.Contains(s, "4 record(s) waiting") })
	pg.Start()
	conn = connect(t, pg)
	waitFor(t, "all 7", func() bool { n, _ := centralCount(t, conn, "line3-b"); return n == 7 })
	if n, distinct := centralCount(t, conn, "line3-b"); n != 7 || distinct != 7 {
		t.Errorf("%d rows, %d distinct, want 7", n, distinct)
	}
}

// TestTwoStationsAtOnce: two stations forwarding at once each arrive
// whole, and each verifies.
func TestTwoStationsAtOnce(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	var wg sync.WaitGroup
	stores := map[string]*audit.Store{"line1": openStore(t), "line2": openStore(t)}
	for name, s := range stores {
		f, _ := New(pg.URL(testpg.Password), name, "", s)
		forward(t, f)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				record(t, s, fmt.Sprintf("%s-%d.jpg", name, k))
			}
		}()
	}
	wg.Wait()
	for name, s := range stores {
		waitFor(t, name, func() bool { n, _ := centralCount(t, conn, name); return n == head(t, s) })
		if v, err := VerifyStation(context.Background(), conn, name); err != nil || len(v.Problems) != 0 || v.Entries != 20 {
			t.Errorf("%s: %v %+v", name, err, v)
		}
	}
}

// TestTwoStationsOneName: entries sent again (at least once) are taken
// once; a second station forwarding under a name already taken is
// refused in its status, its entries not mixed into the other's chain.
func TestTwoStationsOneName(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	first := openStore(t)
	record(t, first, "a.jpg")
	record(t, first, "b.jpg")
	f, _ := New(pg.URL(testpg.Password), "line5", "", first)
	stop := forward(t, f)
	waitFor(t, "the first station", func() bool { n, _ := centralCount(t, conn, "line5"); return n == 2 })
	stop()
	if err := first.SetDelivered(context.Background(), f.sink, 0); err != nil { // as after a crash before the mark moved
		t.Fatal(err)
	}
	again, _ := New(pg.URL(testpg.Password), "line5", "", first)
	forward(t, again)
	waitFor(t, "the entries sent again", func() bool { return again.Waiting() == 0 && strings.Contains(firstStatus(again), "connected") })

	second := openStore(t)
	record(t, second, "other.jpg")
	g, _ := New(pg.URL(testpg.Password), "line5", "", second)
	forward(t, g)
	waitFor(t, "the refusal", func() bool { return strings.Contains(firstStatus(g), "another station forwards as line5") })
	if n, _ := centralCount(t, conn, "line5"); n != 2 {
		t.Errorf("%d central entries, want the first station's 2", n)
	}
	if v, err := VerifyStation(context.Background(), conn, "line5"); err != nil || len(v.Problems) != 0 {
		t.Errorf("verify: %v %+v", err, v)
	}
}

func firstStatus(f *Forwarder) string {
	s, _ := f.Status()
	return s
}

// TestRestartWithRecordsQueued: a station stopped with records not yet
// forwarded sends them after it starts again, once each.
func TestRestartWithRecordsQueued(t *testing.T) {
	pg := testpg.Start(t)
	store := openStore(t)
	conn := connect(t, pg)
	f, _ := New(pg.URL(testpg.Password), "line3-c", "", store)
	stop := forward(t, f)
	record(t, store, "a.jpg")
	waitFor(t, "the first", func() bool { n, _ := centralCount(t, conn, "line3-c"); return n == 1 })
	stop()
	for k := range 5 {
		record(t, store, fmt.Sprintf("%d.jpg", k))
	}
	again, _ := New(pg.URL(testpg.Password), "line3-c", "", store)
	forward(t, again)
	waitFor(t, "the queued 5", func() bool { n, _ := centralCount(t, conn, "line3-c"); return n == 6 })
	if n, distinct := centralCount(t, conn, "line3-c"); n != 6 || distinct != 6 {
		t.Errorf("%d rows, %d distinct", n, distinct)
	}
}

// TestWrongPassword: a refused login is said in one line and inspection
// goes on, the records waiting.
func TestWrongPassword(t *testing.T) {
	pg := testpg.Start(t)
	store := openStore(t)
	f, err := New(pg.URL("wrong"), "line3-d", "", store)
	if err != nil {
		t.Fatal(err)
	}
	forward(t, f)
	record(t, store, "a.jpg")
	record(t, store, "b.jpg")
	waitFor(t, "the refusal", func() bool {
		s, _ := f.Status()
		return strings.Contains(s, "refused the user name or password") && strings.Contains(s, "2 record(s) waiting")
	})
	if s, _ := f.Status(); strings.Contains(s, "wrong") || strings.Contains(s, "\n") {
		t.Errorf("status shows the password or is not one line: %q", s)
	}
	if _, err := New("mysql://x", "s", "", store); err == nil {
		t.Error("a non-postgres URL accepted")
	}
	if host, _ := os.Hostname(); host != "" {
		if g, err := New(pg.URL(testpg.Password), "", "", store); err != nil {
			t.Errorf("no station name: %v", err)
		} else if g.station != host {
			t.Errorf("no station name: station %q, want the host name %q", g.station, host)
		}
	}
}

// TestPlantWideHistory: two stations forward; the central history gives
// both with their station, the final decision after an override, and
// filters by station, line, decision and operator.
func TestPlantWideHistory(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	s1, s2 := openStore(t), openStore(t)
	a := record(t, s1, "a.jpg") // REJECT
	record(t, s1, "b.jpg")
	record(t, s2, "c.jpg")
	if err := s1.Review(context.Background(), a, verdict.Pass, "Ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{"line1": "hot strip 1", "line2": "pickling"}
	for name, s := range map[string]*audit.Store{"line1": s1, "line2": s2} {
		f, _ := New(pg.URL(testpg.Password), name, lines[name], s)
		forward(t, f)
		waitFor(t, name, func() bool { n, _ := centralCount(t, conn, name); return n == head(t, s) })
	}
	ctx := context.Background()
	all, err := History(ctx, conn, Query{})
	if err != nil || len(all) != 3 {
		t.Fatalf("all: %v %d", err, len(all))
	}
	if all[0].Station != "line1" || all[0].Path != "a.jpg" || all[0].FinalDecision() != verdict.Pass || all[0].Operator != "Ana" ||
		all[0].ReviewReason != "oil mark, not a defect" || all[0].InspectedAt.IsZero() || all[2].Station != "line2" {
		t.Errorf("rows %+v", all)
	}
	for _, c := range []struct {
		q    Query
		want int
	}{
		{Query{Station: "line2"}, 1},
		{Query{Line: "hot strip 1"}, 2},
		{Query{Line: "pickling", Station: "line1"}, 0},
		{Query{Line: "cold mill"}, 0},
		{Query{Query: audit.Query{Decision: verdict.Some(verdict.Reject)}}, 2},
		{Query{Query: audit.Query{Operator: "ana"}}, 1},
		{Query{Query: audit.Query{Since: time.Now().Add(time.Hour)}}, 0},
	} {
		if got, err := History(ctx, conn, c.q); err != nil || len(got) != c.want {
			t.Errorf("%+v: %v, %d rows, want %d", c.q, err, len(got), c.want)
		}
	}
}

// BenchmarkForwarding measures forwarding throughput: b.N trail entries
// recorded first, then forwarded to a real PostgreSQL (records/s).
func BenchmarkForwarding(b *testing.B) {
	pg := testpg.Start(b)
	s, err := audit.Open(filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for k := range b.N {
		if _, err := s.Add(context.Background(), realisticInspection(k)); err != nil {
			b.Fatal(err)
		}
	}
	f, _ := New(pg.URL(testpg.Password), "bench", "line 3", s)
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	for f.pending(ctx) > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	cancel()
	<-done
	reportBytesPerRecord(b, pg, b.N)
}

// realisticInspection is an inspection with the sizes of a real one: full
// hashes, a camera's path, one in ten sent to review with its reasons.
func realisticInspection(k int) audit.Inspection {
	in := audit.Inspection{Source: "watch", Path: fmt.Sprintf("/srv/steelinspect/line3/cam2/2026-11-30/strip-%08d.png", k),
		SHA256: strings.Repeat("5e", 32), Width: 1600, Height: 256, Bytes: 412345, ModelName: "steel-defect-mnv2", ModelVersion: "4.0.0",
		ModelSHA256: strings.Repeat("a7", 32), PassThreshold: 0.42, RejectThreshold: 0.65, Confidence: 0.2345678, MeanProbability: 0.0812345,
		AutoDecision: verdict.Pass}
	if k%10 == 0 {
		fam := 3.4
		in.AutoDecision, in.CautionKinds, in.Familiarity = verdict.Review, "unfamiliar", &fam
		in.Cautions = "unfamiliar strip: the model was not trained on strips like this (score 3.4, limit 1.8)"
	}
	return in
}

// reportBytesPerRecord reports the central trail's size on disk (its
// month partitions with their indexes) per record: the figure PostgreSQL
// sizing starts from.
func reportBytesPerRecord(b *testing.B, pg *testpg.Cluster, n int) {
	conn, err := pgx.Connect(context.Background(), pg.URL(testpg.Password))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var size int64
	if err := conn.QueryRow(context.Background(), `SELECT SUM(pg_total_relation_size(inhrelid))::bigint FROM pg_inherits
		WHERE inhparent = 'trail'::regclass`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/float64(n), "bytes/record")
}

// BenchmarkSharedTrailAdd measures recording into the trail API instances
// share (serve --db postgres://…): one committed record per op, from 4
// writers at once, as behind a load balancer.
func BenchmarkSharedTrailAdd(b *testing.B) {
	pg := testpg.Start(b)
	tr, err := OpenShared(context.Background(), pg.URL(testpg.Password), "api", "line 3")
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.SetParallelism(2) // 2 × GOMAXPROCS writers
	b.ResetTimer()
	var k atomic.Int64
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			if _, err := tr.Add(context.Background(), realisticInspection(int(k.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestReport: counts by station and shift with review and override
// rates, and the overrides listed.
func TestReport(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	s1 := openStore(t)
	a := record(t, s1, "a.jpg") // REJECT
	record(t, s1, "b.jpg")
	if _, err := s1.Add(context.Background(), audit.Inspection{Source: "watch", Path: "c.jpg", SHA256: "c", ModelName: "m", ModelVersion: "1",
		ModelSHA256: "b", PassThreshold: 0.4, RejectThreshold: 0.65, AutoDecision: verdict.Review,
		CautionKinds: "unfamiliar", Cautions: "unfamiliar strip: unlike anything the model knows"}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Review(context.Background(), a, verdict.Pass, "Ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	f, _ := New(pg.URL(testpg.Password), "line1", "hot strip", s1)
	forward(t, f)
	waitFor(t, "line1", func() bool { n, _ := centralCount(t, conn, "line1"); return n == head(t, s1) })
	rows, overrides, err := Report(context.Background(), conn, ReportQuery{Since: time.Now().Add(-time.Hour), Loc: time.Local, Top: 10})
	if err != nil || len(rows) != 1 {
		t.Fatalf("report: %v %+v", err, rows)
	}
	r := rows[0]
	if r.Station != "line1" || r.Line != "hot strip" || r.Shift != shiftOf(time.Now().Hour()) || r.Total != 3 || r.Pass != 1 || r.Reject != 1 || r.Review != 1 ||
		r.AutoReview != 1 || r.Overridden != 1 || r.ReviewRate() != 1.0/3 || r.OverrideRate() != 0.5 || r.Unfamiliar != 1 {
		t.Errorf("row %+v", r)
	}
	if len(overrides) != 1 || overrides[0].Path != "a.jpg" || overrides[0].Auto != verdict.Reject || overrides[0].Final != verdict.Pass || overrides[0].Operator != "Ana" {
		t.Errorf("overrides %+v", overrides)
	}
	if rows, _, _ := Report(context.Background(), conn, ReportQuery{Since: time.Now().Add(time.Hour), Loc: time.Local, Top: 10}); len(rows) != 0 {
		t.Errorf("a future period: %+v", rows)
	}
	if rows, o, _ := Report(context.Background(), conn, ReportQuery{Since: time.Now().Add(-time.Hour), Loc: time.Local, Line: "pickling", Top: 10}); len(rows) != 0 || len(o) != 0 {
		t.Errorf("another line: %+v %+v", rows, o)
	}
	st, err := StationList(context.Background(), conn, "")
	if err != nil || len(st) != 1 || st[0].Station != "line1" || st[0].Line != "hot strip" || time.Since(st[0].LastSeen) > time.Minute {
		t.Errorf("stations: %v %+v", err, st)
	}
	for h, want := range map[int]string{5: "night", 6: "early", 13: "early", 14: "late", 21: "late", 22: "night"} {
		if shiftOf(h) != want {
			t.Errorf("hour %d: %s", h, shiftOf(h))
		}
	}
}
