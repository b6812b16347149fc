package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func sample(path, decision string, conf float64) Inspection {
	return Inspection{Source: "scan", Path: path, SHA256: strings.Repeat("a", 64), Width: 1600, Height: 256, Bytes: 1000,
		ModelName: "m", ModelVersion: "1", ModelSHA256: strings.Repeat("b", 64), PassThreshold: 0.4, RejectThreshold: 0.65,
		Confidence: conf, MeanProbability: conf / 2, AutoDecision: decision}
}

func TestAddReviewHistory(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	idPass, _ := s.Add(ctx, sample("a.jpg", "PASS", 0.1))
	idReview, _ := s.Add(ctx, sample("b.jpg", "REVIEW", 0.5))
	idReject, err := s.Add(ctx, sample("c.jpg", "REJECT", 0.9))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idReview, "REJECT", "ana", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idReject, "PASS", "ana", ""); err == nil || !strings.Contains(err.Error(), "needs a reason") {
		t.Errorf("override without reason: %v", err)
	}
	if err := s.Review(ctx, idReject, "PASS", "ana", "oil mark, not a defect"); err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, idPass, "MAYBE", "ana", ""); err == nil {
		t.Error("bad operator decision accepted")
	}
	if err := s.Review(ctx, 999, "PASS", "ana", ""); err == nil {
		t.Error("review of a missing inspection accepted")
	}
	all, err := s.History(ctx, Query{})
	if err != nil || len(all) != 3 {
		t.Fatalf("history: %v, %d rows", err, len(all))
	}
	if all[1].FinalDecision() != "REJECT" || all[1].Operator != "ana" || all[1].ReviewedAt.IsZero() {
		t.Errorf("reviewed row %+v", all[1])
	}
	rejects, _ := s.History(ctx, Query{Decision: "REJECT"})
	if len(rejects) != 1 || rejects[0].Path != "b.jpg" {
		t.Errorf("final REJECT rows %+v", rejects)
	}
	passes, _ := s.History(ctx, Query{Decision: "PASS", Operator: "ana"})
	if len(passes) != 1 || passes[0].ReviewReason != "oil mark, not a defect" {
		t.Errorf("operator PASS rows %+v", passes)
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
				if _, err := s.Add(ctx, sample("p", "PASS", 0.1)); err != nil {
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
