package audit

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"steelinspect/verdict"
)

// A trail kept outside SQLite (the PostgreSQL trail API instances share)
// must chain exactly what a station's own trail chains for the same
// record: same payload, same hash, so one verifier and one reader serve
// both.
func TestEntriesMatchTheStationTrail(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fam := 1.25
	ins := []Inspection{
		{InspectedAt: time.Date(2026, 11, 30, 14, 0, 0, 123456000, time.FixedZone("CET", 3600)), Source: "api", Path: "a.png",
			SHA256: "ab", Width: 1600, Height: 256, Bytes: 4000, ModelName: "m", ModelVersion: "4.0.0", ModelSHA256: "cd",
			PassThreshold: 0.3, RejectThreshold: 0.7, Confidence: 0.91, MeanProbability: 0.12, AutoDecision: verdict.Review,
			CautionKinds: "unfamiliar", Cautions: "unfamiliar strip", Familiarity: &fam, ArchivePath: "x/a.png", ArchiveSHA256: "ef"},
		{InspectedAt: time.Now(), Source: "scan", Path: "b.png", SHA256: "01", Width: 64, Height: 64, Bytes: 1,
			ModelName: "m", ModelVersion: "4.0.0", ModelSHA256: "cd", PassThreshold: 0.25, RejectThreshold: 0.5, Confidence: 1,
			MeanProbability: 0, AutoDecision: verdict.Pass},
	}
	for _, in := range ins {
		if _, err := s.Add(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddPurge(ctx, "x/a.png", 4000, "retention 30 days"); err != nil {
		t.Fatal(err)
	}
	chain, err := s.Chain(ctx)
	if err != nil || len(chain) != 3 {
		t.Fatalf("chain %d entries, %v", len(chain), err)
	}
	var prev ChainEntry
	for i, in := range ins {
		e, err := InspectionEntry(prev, chain[i].RowID, in)
		if err != nil {
			t.Fatal(err)
		}
		if e != chain[i] {
			t.Errorf("inspection %d:\n built %+v\nstored %+v", i+1, e, chain[i])
		}
		prev = chain[i]
	}
	var purged struct {
		At string `json:"purged_at"`
	}
	if err := json.Unmarshal([]byte(chain[2].Payload), &purged); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(timeLayout, purged.At)
	if err != nil {
		t.Fatal(err)
	}
	e, err := PurgeEntry(prev, chain[2].RowID, at, "x/a.png", 4000, "retention 30 days")
	if err != nil {
		t.Fatal(err)
	}
	if e != chain[2] {
		t.Errorf("purge:\n built %+v\nstored %+v", e, chain[2])
	}
	if v := VerifyEntries("", []ChainEntry{chain[0], chain[1], e}); len(v.Problems) > 0 {
		t.Errorf("built entries do not verify: %v", v)
	}
}
