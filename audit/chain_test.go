package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"steelinspect/verdict"
)

// filledTrail is a trail with inspections, a review, an override, an
// undo and a setting change, and the raw database behind it, as someone
// with the sqlite3 shell would have it.
func filledTrail(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	a, _ := s.Add(ctx, sample("a.jpg", verdict.Review, 0.5))
	b, _ := s.Add(ctx, sample("b.jpg", verdict.Reject, 0.9))
	if _, err := s.Add(ctx, sample("c.jpg", verdict.Pass, 0.1)); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Review(ctx, a, verdict.Pass, "ana", ""))
	must(s.Review(ctx, b, verdict.Pass, "ana", "oil mark, not a defect"))
	must(s.Undo(ctx, b, "ana"))
	must(s.AddSettingChange(ctx, "supervisor", "pass_threshold", "0.40", "0.42"))
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}

func verify(t *testing.T, s *Store) *Verification {
	t.Helper()
	v, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestChainIntact: every row written is chained, and an untouched trail
// verifies; nothing is updated in place (the inspection row keeps no
// operator decision of its own).
func TestChainIntact(t *testing.T) {
	s, raw := filledTrail(t)
	v := verify(t, s)
	if len(v.Problems) != 0 {
		t.Fatalf("intact trail: %q", v.Problems)
	}
	want := map[string]int{"inspection": 3, "decision": 3, "setting": 1}
	if v.Entries != 7 || fmt.Sprint(v.ByKind) != fmt.Sprint(want) || len(v.Head) != 64 {
		t.Errorf("entries %d %v head %q", v.Entries, v.ByKind, v.Head)
	}
	var inPlace int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM inspections WHERE operator_decision IS NOT NULL OR operator IS NOT NULL`).Scan(&inPlace); err != nil {
		t.Fatal(err)
	}
	if inPlace != 0 {
		t.Errorf("%d inspection rows were updated in place", inPlace)
	}
	// the decisions in force come from the decisions rows
	rows, _ := s.History(context.Background(), Query{})
	if rows[0].FinalDecision() != verdict.Pass || rows[0].Operator != "ana" || rows[1].FinalDecision() != verdict.Reject || !rows[1].OperatorDecision.IsZero() {
		t.Errorf("decisions in force: %+v / %+v", rows[0], rows[1])
	}
	if rows[0].ChainSeq == 0 || len(rows[0].ChainHash) != 64 {
		t.Errorf("inspection rows do not carry their chain entry: %d %q", rows[0].ChainSeq, rows[0].ChainHash)
	}
}

// TestChainFindsTampering: a row changed, a row deleted, a row inserted
// and a chain entry rewritten (with its own hash recomputed) are each
// found and named, and the first one is named first.
func TestChainFindsTampering(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"REJECT changed to PASS", `UPDATE inspections SET auto_decision = 'PASS' WHERE id = 2`, `inspection 2 was changed after it was recorded (chain entry 2): auto_decision was "REJECT", is "PASS"`},
		{"an operator decision changed", `UPDATE decisions SET decision = 'REJECT' WHERE id = 1`, "decision 1 was changed after it was recorded"},
		{"a row deleted", `DELETE FROM inspections WHERE id = 3`, "inspection 3 was deleted"},
		{"a setting change forged", `INSERT INTO setting_changes (changed_at, changed_by, setting, old_value, new_value) VALUES ('2026-01-01T00:00:00Z','supervisor','reject_threshold','0.65','0.99')`,
			"setting 2 was inserted outside the trail"},
		{"a chain entry rewritten", `UPDATE chain SET payload = replace(payload, 'REJECT', 'PASS') WHERE seq = 2`, "chain entry 2 (inspection 2) was altered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, raw := filledTrail(t)
			if _, err := raw.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			v := verify(t, s)
			if len(v.Problems) == 0 || !strings.Contains(v.Problems[0], c.want) {
				t.Fatalf("problems %q, want first %q", v.Problems, c.want)
			}
		})
	}
	// An entry rewritten with a fresh hash of its own breaks the next link.
	s, raw := filledTrail(t)
	var prev, payload string
	if err := raw.QueryRow(`SELECT prev, replace(payload, 'REJECT', 'PASS') FROM chain WHERE seq = 2`).Scan(&prev, &payload); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE inspections SET auto_decision = 'PASS' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE chain SET payload = ?, hash = ? WHERE seq = 2`, payload, chainHash(prev, "inspection", 2, payload)); err != nil {
		t.Fatal(err)
	}
	v := verify(t, s)
	if len(v.Problems) == 0 || !strings.Contains(v.Problems[0], "chain entry 3") || !strings.Contains(v.Problems[0], "link to the entry before is broken") {
		t.Errorf("re-hashed entry: %q", v.Problems)
	}
}

// TestChainExportVerifiesElsewhere: the chain written out verifies on
// its own; an edited copy does not.
func TestChainExportVerifiesElsewhere(t *testing.T) {
	s, _ := filledTrail(t)
	entries, err := s.Chain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteChain(&buf, entries); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyChain(bytes.NewReader(buf.Bytes()), "")
	if err != nil || len(v.Problems) != 0 || v.Entries != 7 || v.Head != verify(t, s).Head {
		t.Fatalf("exported chain: %v %+v", err, v)
	}
	edited := strings.Replace(buf.String(), `\"REJECT\"`, `\"PASS\"`, 1)
	if edited == buf.String() {
		t.Fatal("nothing to edit in the export")
	}
	if v, err := VerifyChain(strings.NewReader(edited), ""); err != nil || len(v.Problems) == 0 || !strings.Contains(v.Problems[0], "altered") {
		t.Errorf("edited export: %v %q", err, v.Problems)
	}
	if _, err := VerifyChain(strings.NewReader("{not json"), ""); err == nil {
		t.Error("a broken chain file was read")
	}
}

// TestChainConcurrentWriters: two stores (as two processes would) writing
// at once keep one unbroken chain.
func TestChainConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	var stores [2]*Store
	for k := range stores {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[k] = s
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for k, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 20 {
				if _, err := s.Add(context.Background(), sample(fmt.Sprintf("%d-%d.jpg", k, n), verdict.Pass, 0.1)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v := verify(t, stores[0]); len(v.Problems) != 0 || v.Entries != 40 {
		t.Errorf("after concurrent writes: %d entries, %q", v.Entries, v.Problems)
	}
}

// TestOldTrailAdopted: a trail from before the chain (operator decisions
// kept in the inspection row, no decisions table) opens with its
// decisions kept, is chained from then on, and later tampering shows.
func TestOldTrailAdopted(t *testing.T) {
	path, raw := firstSchemaTrail(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.History(context.Background(), Query{})
	if err != nil || len(rows) != 2 || rows[0].FinalDecision() != verdict.Reject || rows[0].Operator != "bob" {
		t.Fatalf("old decisions: %v %+v", err, rows)
	}
	v := verify(t, s)
	if len(v.Problems) != 0 || v.ByKind["inspection"] != 2 || v.ByKind["decision"] != 1 {
		t.Fatalf("adopted trail: %+v", v)
	}
	// reopened, nothing is adopted twice
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO inspections (inspected_at, source, path, sha256, width, height, bytes, model_name, model_version, model_sha256,
		pass_threshold, reject_threshold, confidence, mean_probability, auto_decision) VALUES ('2026-01-02T00:00:00Z','scan','x.jpg','aa',1,1,1,'m','1','bb',0.4,0.65,0.1,0.1,'PASS')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) != 1 || !strings.Contains(v.Problems[0], "inspection 3 was inserted outside the trail") {
		t.Errorf("a row slipped in after adoption: %q", v.Problems)
	}
}

// TestCSVNeutralised: cells a spreadsheet would run as formulas get an
// apostrophe, and bidirectional controls are spelled out.
func TestCSVNeutralised(t *testing.T) {
	in := sample("=SUM(1+1)*cmd|'calc'!A0.jpg", verdict.Review, 0.5)
	in.Operator = "@admin"
	in.ReviewReason = "+1 \u202egpj.exe"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Inspection{in}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]string{}
	for k, col := range recs[0] {
		row[col] = recs[1][k]
	}
	if row["path"] != "'=SUM(1+1)*cmd|'calc'!A0.jpg" || row["operator"] != "'@admin" || row["review_reason"] != "'+1 <U+202E>gpj.exe" {
		t.Errorf("cells %q %q %q", row["path"], row["operator"], row["review_reason"])
	}
	if row["confidence"] != "0.500000" || row["source"] != "scan" {
		t.Errorf("plain cells changed: %q %q", row["confidence"], row["source"])
	}
}

// BenchmarkAdd is the cost of recording one inspection, its chain entry
// included (fsync'd: synchronous=FULL), alone and while a reader follows
// the trail as the MQTT and central forwarders do: what the inspection
// path pays for them.
func BenchmarkAdd(b *testing.B) {
	for _, follow := range []bool{false, true} {
		b.Run(fmt.Sprintf("follower=%v", follow), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "audit.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var mark int64
				for {
					select {
					case <-stop:
						return
					case <-s.Changes():
					}
					if !follow {
						continue
					}
					entries, _ := s.ChainAfter(context.Background(), mark, 500)
					if len(entries) > 0 {
						mark = entries[len(entries)-1].Seq
						s.SetDelivered(context.Background(), "bench", mark)
					}
				}
			}()
			ctx := context.Background()
			b.ResetTimer()
			for k := range b.N {
				if _, err := s.Add(ctx, sample(fmt.Sprintf("%d.jpg", k), verdict.Pass, 0.1)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			<-done
		})
	}
}
