package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/verdict"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sub", "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sample(path string, decision verdict.Decision, conf float64) Inspection {
	return Inspection{Source: "scan", Path: path, SHA256: strings.Repeat("a", 64), Width: 1600, Height: 256, Bytes: 1000,
		ModelName: "m", ModelVersion: "1", ModelSHA256: strings.Repeat("b", 64), PassThreshold: 0.4, RejectThreshold: 0.65,
		Confidence: conf, MeanProbability: conf / 2, AutoDecision: decision}
}

func TestAddReviewHistory(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	idPass, _ := s.Add(ctx, sample("a.jpg", verdict.Pass, 0.1))
	idReview, _ := s.Add(ctx, sample("b.jpg", verdict.Review, 0.5))
	idReject, err := s.Add(ctx, sample("c.jpg", verdict.Reject, 0.9))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idReview, verdict.Reject, "ana", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idReject, verdict.Pass, "ana", ""); err == nil || !strings.Contains(err.Error(), "needs a reason") {
		t.Errorf("override without reason: %v", err)
	}
	if err := s.Review(ctx, idReject, verdict.Pass, "ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idPass, verdict.Review, "ana", ""); err == nil {
		t.Error("bad operator decision accepted")
	}
	if err := s.Review(ctx, 999, verdict.Pass, "ana", ""); err == nil {
		t.Error("review of a missing inspection accepted")
	}
	all, err := s.History(ctx, Query{})
	if err != nil || len(all) != 3 {
		t.Fatalf("history: %v, %d rows", err, len(all))
	}
	if all[1].FinalDecision() != verdict.Reject || all[1].Operator != "ana" || all[1].ReviewedAt.IsZero() {
		t.Errorf("reviewed row %+v", all[1])
	}
	rejects, _ := s.History(ctx, Query{Decision: verdict.Some(verdict.Reject)})
	if len(rejects) != 1 || rejects[0].Path != "b.jpg" {
		t.Errorf("final REJECT rows %+v", rejects)
	}
	passes, _ := s.History(ctx, Query{Decision: verdict.Some(verdict.Pass), Operator: "ana"})
	if len(passes) != 1 || passes[0].ReviewReason != "oil mark, not a defect" {
		t.Errorf("operator PASS rows %+v", passes)
	}
	if typed, _ := s.History(ctx, Query{Operator: " Ana "}); len(typed) != 2 {
		t.Errorf("operator filter %q found %d rows, want ana's 2 whatever the case", " Ana ", len(typed))
	}
	future, _ := s.History(ctx, Query{Since: time.Now().Add(time.Hour)})
	if len(future) != 0 {
		t.Errorf("rows from the future: %d", len(future))
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, all); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][17] != "final_decision" || rows[3][17] != "PASS" || rows[3][15] != "REJECT" {
		t.Errorf("csv %v %v", err, rows)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

func TestSettingChanges(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.AddSettingChange(ctx, "supervisor", "pass_threshold", "0.40", "0.35"); err != nil {
		t.Fatal(err)
	}
	got, err := s.SettingChanges(ctx)
	if err != nil || len(got) != 1 || got[0].OldValue != "0.40" || got[0].NewValue != "0.35" {
		t.Errorf("changes %v %+v", err, got)
	}
}

func TestGarbageDatabase(t *testing.T) {
	p := filepath.Join(t.TempDir(), "garbage.db")
	os.WriteFile(p, bytes.Repeat([]byte("not sqlite "), 500), 0o644)
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "not an audit database") {
		t.Errorf("garbage file: %v", err)
	}
}

func TestTwoStoresOnOneFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shared.db")
	a, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	done := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func(s *Store) {
			for i := 0; i < 50; i++ {
				if _, err := s.Add(ctx, sample("p", verdict.Pass, 0.1)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}(s)
	}
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	all, _ := a.History(ctx, Query{})
	if len(all) != 100 {
		t.Errorf("%d rows from two writers, want 100", len(all))
	}
}

// A strip sent to review by a caution keeps the caution in the trail and
// in both exports, in its own fields.
func TestCautionsAreRecorded(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	rec := verdict.Record{Path: "cam.png", Decision: verdict.Some(verdict.Review), Confidence: 0.93,
		Cautions: []verdict.Caution{
			{Kind: verdict.CautionImplausible, Reason: "implausible image: black frame (99 % of pixels at grey level 3 or darker), possible camera or lighting fault"},
			{Kind: verdict.CautionUnfamiliar, Reason: "unfamiliar strip: the model was not trained on strips like this (score 3.40, limit 1.80)"}},
		Familiarity: &verdict.StripFamiliarity{Score: 3.4, Limit: 1.8, Unfamiliar: true},
		Image:       &verdict.ImageInfo{Width: 1600, Height: 256, SHA256: "ab"}}
	if _, err := s.Add(ctx, mustFromRecord(t, &rec, "scan")); err != nil {
		t.Fatal(err)
	}
	plain := verdict.Record{Path: "ok.png", Decision: verdict.Some(verdict.Pass), Image: &verdict.ImageInfo{Width: 1600, Height: 256}}
	if _, err := s.Add(ctx, mustFromRecord(t, &plain, "scan")); err != nil {
		t.Fatal(err)
	}
	list, err := s.History(ctx, Query{})
	if err != nil || len(list) != 2 {
		t.Fatalf("history %v %v", list, err)
	}
	got := list[0]
	if got.CautionKinds != "implausible,unfamiliar" || !strings.Contains(got.Cautions, "black frame") ||
		!strings.Contains(got.Cautions, "score 3.40, limit 1.80") || got.Familiarity == nil || *got.Familiarity != 3.4 {
		t.Errorf("recorded %+v", got)
	}
	if list[1].CautionKinds != "" || list[1].Cautions != "" || list[1].Familiarity != nil {
		t.Errorf("a strip without cautions recorded %+v", list[1])
	}
	var csvOut, jsonOut strings.Builder
	if err := WriteCSV(&csvOut, list); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if r := rows[1]; r[col["caution_kinds"]] != "implausible,unfamiliar" || !strings.Contains(r[col["cautions"]], "black frame") || r[col["familiarity"]] != "3.400" {
		t.Errorf("CSV row %v", r)
	}
	if err := WriteJSONL(&jsonOut, list[:1]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jsonOut.String(), `"caution_kinds":"implausible,unfamiliar"`) || !strings.Contains(jsonOut.String(), `"familiarity":3.4`) {
		t.Errorf("JSONL %s", jsonOut.String())
	}
}

// A trail written before the caution columns existed is migrated on open:
// its rows stay, and new rows carry cautions.
func TestOldTrailGainsCautionColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schemaWithoutAddedColumns(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO inspections (inspected_at, source, path, sha256, width, height, bytes, model_name, model_version,
		model_sha256, pass_threshold, reject_threshold, confidence, mean_probability, auto_decision)
		VALUES ('2026-01-01T00:00:00.000000Z','scan','old.png','x',1600,256,1,'m','1','h',0.4,0.65,0.1,0.1,'PASS')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := verdict.Record{Path: "new.png", Decision: verdict.Some(verdict.Review), Cautions: []verdict.Caution{{Kind: verdict.CautionUnfamiliar, Reason: "unfamiliar strip"}},
		Image: &verdict.ImageInfo{Width: 1600, Height: 256}}
	if _, err := s.Add(context.Background(), mustFromRecord(t, &rec, "scan")); err != nil {
		t.Fatal(err)
	}
	list, err := s.History(context.Background(), Query{})
	if err != nil || len(list) != 2 || list[0].Path != "old.png" || list[0].Cautions != "" || list[1].CautionKinds != "unfamiliar" {
		t.Fatalf("after migration: %+v %v", list, err)
	}
}

// TestDecisionsAreKeptAndUndone: every operator decision and its undo are
// kept in order; the inspection row holds the one in force.
func TestDecisionsAreKeptAndUndone(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	id, err := s.Add(ctx, Inspection{Source: "window", Path: "a.png", AutoDecision: verdict.Review})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, id, "ana"); err == nil {
		t.Error("undo with nothing to undo succeeded")
	}
	if err := s.Review(ctx, id, verdict.Pass, "ana", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, id, "ana"); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.History(ctx, Query{})
	if !rows[0].OperatorDecision.IsZero() || rows[0].FinalDecision() != verdict.Review {
		t.Fatalf("after the undo the strip is %+v, want it waiting for review again", rows[0])
	}
	if err := s.Review(ctx, id, verdict.Reject, "ben", ""); err != nil {
		t.Fatal(err)
	}
	events, err := s.Decisions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Kind+":"+e.Decision.String()+":"+e.Operator)
	}
	if strings.Join(got, ",") != "review:PASS:ana,undo::ana,review:REJECT:ben" {
		t.Errorf("decisions %v, want every one kept in order", got)
	}
	if rows, _ := s.History(ctx, Query{}); !rows[0].OperatorDecision.Is(verdict.Reject) || rows[0].Operator != "ben" {
		t.Errorf("in force: %+v", rows[0])
	}
}

// mustFromRecord is FromRecord for a record that has a decision.
func mustFromRecord(t *testing.T, r *verdict.Record, source string) Inspection {
	t.Helper()
	in, err := FromRecord(r, source)
	if err != nil {
		t.Fatal(err)
	}
	return in
}
