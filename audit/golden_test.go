package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// goldenInspections are inspections as the trail's JSON export writes
// them: an automatic REJECT a person passed, a REVIEW nobody decided yet
// and an automatic PASS. They are read from the wire format, so the
// golden files below were written by the code before decisions were
// typed and must still come out byte for byte.
const goldenInspections = `[
{"id":1,"inspected_at":"2026-03-04T05:06:07.123456Z","source":"scan","path":"a.jpg","sha256":"aa","width":1600,"height":256,"bytes":1000,"model_name":"m","model_version":"1","model_sha256":"bb","pass_threshold":0.4,"reject_threshold":0.65,"confidence":0.9,"mean_probability":0.45,"auto_decision":"REJECT","operator_decision":"PASS","operator":"ana","reviewed_at":"2026-03-04T06:00:00Z","review_reason":"oil mark, not a defect","chain_seq":1,"chain_hash":"cc"},
{"id":2,"inspected_at":"2026-03-04T05:06:08Z","source":"watch","path":"b.jpg","sha256":"dd","width":1600,"height":256,"bytes":1001,"model_name":"m","model_version":"1","model_sha256":"bb","pass_threshold":0.4,"reject_threshold":0.65,"confidence":0.5,"mean_probability":0.25,"auto_decision":"REVIEW","caution_kinds":"unfamiliar","cautions":"unlike the training strips","familiarity":3.5,"defect_class":"scratch","defect_patches":2},
{"id":3,"inspected_at":"2026-03-04T05:06:09Z","source":"window","path":"c.jpg","sha256":"ee","width":1600,"height":256,"bytes":1002,"model_name":"m","model_version":"1","model_sha256":"bb","pass_threshold":0.4,"reject_threshold":0.65,"confidence":0.1,"mean_probability":0.05,"auto_decision":"PASS","station":"line-1"}
]`

// checkGolden compares got with testdata/name; STEELINSPECT_GOLDEN=1
// writes it instead.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("STEELINSPECT_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from before:\n got %s\nwant %s", name, got, want)
	}
}

func goldenList(t *testing.T) []Inspection {
	t.Helper()
	var list []Inspection
	if err := json.Unmarshal([]byte(goldenInspections), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// The exports write the same bytes as before decisions were typed.
func TestExportsAreUnchanged(t *testing.T) {
	list := goldenList(t)
	var csvOut, jsonlOut bytes.Buffer
	if err := WriteCSV(&csvOut, list); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(&jsonlOut, list); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "export.csv", csvOut.Bytes())
	checkGolden(t, "export.jsonl", jsonlOut.Bytes())
}

// A recorded inspection chains the same payload, hence the same hash, as
// before decisions were typed, so old trails still verify; the trail
// reads it back as it was written.
func TestChainPayloadIsUnchanged(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for _, in := range goldenList(t) { // the operator's columns are not written: a review is a decisions row
		if _, err := s.Add(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.Chain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteChain(&out, entries); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "chain.jsonl", out.Bytes())
	if v, err := s.Verify(ctx); err != nil || len(v.Problems) > 0 {
		t.Fatalf("verify: %v %+v", err, v)
	}
}

// A trail row whose decision is not one this version knows (a file
// edited by hand, with its CHECK constraints switched off) is refused
// with an error that names the decision, never read as a PASS or shown
// as it is.
func TestAnUnknownDecisionInTheTrailIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, sql string }{
		{"automatic", `UPDATE inspections SET auto_decision = 'MAYBE' WHERE id = 2`},
		{"operator", `UPDATE decisions SET decision = 'OK' WHERE inspection_id = 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, raw := filledTrail(t)
			unchecked(t, raw, c.sql)
			_, err := s.History(ctx, Query{})
			if err == nil || !strings.Contains(err.Error(), "unknown decision") {
				t.Fatalf("history of a trail with an unknown decision: %v, want it refused", err)
			}
		})
	}
	s, raw := filledTrail(t)
	unchecked(t, raw, `UPDATE inspections SET auto_decision = 'MAYBE' WHERE id = 3`)
	if err := s.Review(ctx, 3, verdict.Reject, "ana", "a reason long enough"); err == nil || !strings.Contains(err.Error(), `unknown decision "MAYBE"`) {
		t.Errorf("review of a strip with an unknown automatic decision: %v, want it refused", err)
	}
	// a central copy of the trail reads its rows from the chain's payloads
	if _, err := InspectionFromPayload(`{"auto_decision":"MAYBE"}`, ""); err == nil || !strings.Contains(err.Error(), `unknown decision "MAYBE"`) {
		t.Errorf("payload with an unknown automatic decision: %v", err)
	}
	if _, err := InspectionFromPayload(`{"auto_decision":"PASS"}`, `{"decision":"pass"}`); err == nil || !strings.Contains(err.Error(), `unknown decision "pass"`) {
		t.Errorf("review payload with an unknown decision: %v", err)
	}
	// and an export of an unknown one reads back no better
	var in Inspection
	if err := json.Unmarshal([]byte(`{"auto_decision":"REVEIW"}`), &in); err == nil || !strings.Contains(err.Error(), `unknown decision "REVEIW"`) {
		t.Errorf("inspection JSON with an unknown decision: %v", err)
	}
}

// unchecked runs query on the trail with its CHECK constraints off, as
// the sqlite3 shell may.
func unchecked(t *testing.T, raw *sql.DB, query string) {
	t.Helper()
	ctx := context.Background()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA ignore_check_constraints = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, query); err != nil {
		t.Fatal(err)
	}
}

// An inspection nobody has decided never reads as an operator's PASS:
// not in Go, not in its exports, not on its way through the trail.
func TestNoOperatorDecisionIsNotPass(t *testing.T) {
	var zero Inspection
	if zero.OperatorDecision.Is(verdict.Pass) || !zero.OperatorDecision.IsZero() {
		t.Errorf("a zero inspection's operator decision reads as %q", zero.OperatorDecision)
	}
	s := openTemp(t)
	ctx := context.Background()
	id, err := s.Add(ctx, sample("r.jpg", verdict.Review, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, id, verdict.Pass, "ana", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, id, "ana"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.History(ctx, Query{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("history %v %v", rows, err)
	}
	in := rows[0]
	if op, ok := in.OperatorDecision.Get(); ok || in.FinalDecision() != verdict.Review {
		t.Errorf("after the undo: operator decision %v (%v), final %v; want none and REVIEW", op, ok, in.FinalDecision())
	}
	if passes, _ := s.History(ctx, Query{Decision: verdict.Some(verdict.Pass)}); len(passes) != 0 {
		t.Errorf("a strip nobody decided is among the PASSes: %+v", passes)
	}
	b, err := json.Marshal(in)
	if err != nil || strings.Contains(string(b), "operator_decision") {
		t.Errorf("JSON of an undecided inspection: %s %v", b, err)
	}
	var back Inspection
	if err := json.Unmarshal(b, &back); err != nil || !back.OperatorDecision.IsZero() || back.AutoDecision != verdict.Review {
		t.Errorf("read back: %+v %v", back, err)
	}
	events, err := s.Decisions(ctx, id)
	if err != nil || len(events) != 2 || !events[0].Decision.Is(verdict.Pass) || !events[1].Decision.IsZero() {
		t.Errorf("decisions %+v %v: the undo has no decision", events, err)
	}
	if b, _ := json.Marshal(events[1]); strings.Contains(string(b), `"decision"`) {
		t.Errorf("JSON of an undo: %s", b)
	}
}

// A record without a decision (an image that could not be analysed) is
// not recorded, where it once would have been refused only by the
// trail's CHECK constraint.
func TestARecordWithoutADecisionIsNotRecorded(t *testing.T) {
	r := verdict.ErrorRecord("x.jpg", errors.New("not an image"), verdict.ModelIdentity{Name: "m"}, verdict.DefaultThresholds)
	if _, err := FromRecord(&r, "scan"); err == nil || !strings.Contains(err.Error(), "no decision") {
		t.Errorf("record of a failed image: %v", err)
	}
}
