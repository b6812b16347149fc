package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// TestDefectClassIsChained: a strip's most likely defect class is in the
// trail, in its own chained row written with the inspection (the entry
// right after it), while the inspection's own entry keeps the columns it
// always had; history and both exports carry it, a strip without one has
// none, and a class changed or deleted with the sqlite3 shell fails
// verify.
func TestDefectClassIsChained(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	in := sample("/line/a.png", verdict.Reject, 0.9)
	in.DefectClass, in.DefectPatches = "class 3", 2
	id, err := s.Add(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.Add(ctx, sample("/line/b.png", verdict.Pass, 0.1))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.History(ctx, Query{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("history: %v %d", err, len(rows))
	}
	if r := rows[0]; r.ID != id || r.DefectClass != "class 3" || r.DefectPatches != 2 {
		t.Errorf("the classed strip reads back as class %q in %d patches", r.DefectClass, r.DefectPatches)
	}
	if r := rows[1]; r.ID != plain || r.DefectClass != "" || r.DefectPatches != 0 {
		t.Errorf("a strip without a class reads back as class %q in %d patches", r.DefectClass, r.DefectPatches)
	}

	chain, err := s.Chain(ctx)
	if err != nil || len(chain) != 3 {
		t.Fatalf("chain: %v, %d entries, want 3 (inspection, its class, inspection)", err, len(chain))
	}
	if chain[0].Kind != "inspection" || chain[1].Kind != "class" || chain[2].Kind != "inspection" {
		t.Errorf("chain kinds %s, %s, %s; want the class right after its inspection", chain[0].Kind, chain[1].Kind, chain[2].Kind)
	}
	var inspection, class map[string]any
	if err := json.Unmarshal([]byte(chain[0].Payload), &inspection); err != nil {
		t.Fatal(err)
	}
	if _, ok := inspection["class"]; ok || len(inspection) != 25 {
		t.Errorf("the inspection's entry has %d columns (want its 25, unchanged): %s", len(inspection), chain[0].Payload)
	}
	if err := json.Unmarshal([]byte(chain[1].Payload), &class); err != nil {
		t.Fatal(err)
	}
	if class["inspection_id"] != float64(id) || class["class"] != "class 3" || class["patches"] != float64(2) || class["recorded_at"] != inspection["inspected_at"] {
		t.Errorf("class entry %s", chain[1].Payload)
	}
	if at := chain[1].RecordedAt(); !at.Equal(chain[0].RecordedAt()) || at.Year() < 2000 {
		t.Errorf("the class entry is recorded at %v, its inspection at %v", at, chain[0].RecordedAt())
	}

	col := exportedCSV(t, rows)
	if col[0]["defect_class"] != "class 3" || col[0]["defect_patches"] != "2" || col[1]["defect_class"] != "" || col[1]["defect_patches"] != "" {
		t.Errorf("csv: %q/%q and %q/%q", col[0]["defect_class"], col[0]["defect_patches"], col[1]["defect_class"], col[1]["defect_patches"])
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"defect_class":"class 3","defect_patches":2`) || strings.Contains(lines[1], "defect_") {
		t.Errorf("jsonl:\n%s", buf.String())
	}

	if v := verify(t, s); len(v.Problems) != 0 || v.ByKind["class"] != 1 || v.ByKind["inspection"] != 2 {
		t.Fatalf("intact trail: %+v", v)
	}
	if _, err := s.db.Exec(`UPDATE inspection_classes SET class = 'class 1' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) == 0 || !strings.Contains(v.Problems[0], "class 1 was changed after it was recorded") || !strings.Contains(v.Problems[0], "class 3") {
		t.Errorf("a class changed by hand: %q", v.Problems)
	}
	if _, err := s.db.Exec(`DELETE FROM inspection_classes WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) == 0 || !strings.Contains(v.Problems[0], "class 1 was deleted") {
		t.Errorf("a class deleted by hand: %q", v.Problems)
	}
}

// exportedCSV is the CSV export of rows, each row as column → value.
func exportedCSV(t *testing.T, rows []Inspection) []map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != len(rows)+1 {
		t.Fatalf("csv: %v %d", err, len(recs))
	}
	out := make([]map[string]string, len(rows))
	for i := range out {
		out[i] = map[string]string{}
		for k, name := range recs[0] {
			out[i][name] = recs[i+1][k]
		}
	}
	return out
}

// TestAClassNotRecordedLeavesNoInspection: the class is written in the
// inspection's transaction: when it cannot be recorded, neither is the
// inspection.
func TestAClassNotRecordedLeavesNoInspection(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	in := sample("/line/a.png", verdict.Reject, 0.9)
	in.DefectClass, in.DefectPatches = "class 3", -1
	if _, err := s.Add(ctx, in); err == nil || !strings.Contains(err.Error(), "not negative") {
		t.Fatalf("a negative count of patches: %v", err)
	}
	if rows, err := s.History(ctx, Query{}); err != nil || len(rows) != 0 {
		t.Errorf("the inspection was recorded without its class: %d rows, %v", len(rows), err)
	}
	if v := verify(t, s); len(v.Problems) != 0 || v.Entries != 0 {
		t.Errorf("trail after a refused inspection: %+v", v)
	}
}

// TestFromRecordCarriesTheClass: the inspection made from a scored record
// takes the record's class and counts the flagged patches that share it.
func TestFromRecordCarriesTheClass(t *testing.T) {
	a := &inference.Analysis{Patches: []verdict.Patch{
		{Probability: 0.95, Class: "class 4"}, // passes at these zones: not counted
		{Probability: 0.80, Class: "class 3"},
		{Probability: 0.60, Class: "class 3"},
		{Probability: 0.55, Class: "class 1"},
	}}
	v := &verdict.Verdict{Zones: []verdict.Zone{verdict.ZoneAutoPass, verdict.ZoneAutoReject, verdict.ZoneManualReview, verdict.ZoneManualReview}}
	r := inference.NewRecord(a, v)
	in := mustFromRecord(t, &r, "scan")
	if in.DefectClass != "class 3" || in.DefectPatches != 2 {
		t.Errorf("inspection from the record: class %q in %d patches, want class 3 in 2", in.DefectClass, in.DefectPatches)
	}
	r = inference.NewRecord(a, &verdict.Verdict{Zones: make([]verdict.Zone, 4)})
	if in := mustFromRecord(t, &r, "scan"); in.DefectClass != "" || in.DefectPatches != 0 {
		t.Errorf("a strip whose patches all pass: class %q in %d patches", in.DefectClass, in.DefectPatches)
	}
}

// TestVersionThreeTrailGainsDefectClasses: a trail of schema version 3
// (before defect classes) opens at the newest version with the table,
// keeps its chain, and records classes.
func TestVersionThreeTrailGainsDefectClasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	all := migrations
	withMigrations(t, all[:3]...)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), sample("/line/a.png", verdict.Pass, 0.1)); err != nil {
		t.Fatal(err)
	}
	if _, ok := shape(t, s.db)["inspection_classes"]; ok {
		t.Fatal("a version 3 trail already has inspection_classes")
	}
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	withMigrations(t, all...)
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, s.db); v != len(all) || v < 4 {
		t.Errorf("schema version %d, want %d", v, len(all))
	}
	if cols := shape(t, s.db)["inspection_classes"]; !slices.Equal(cols, []string{"id", "inspection_id", "recorded_at", "class", "patches"}) {
		t.Errorf("inspection_classes has %v", cols)
	}
	if v := verify(t, s); len(v.Problems) != 0 || !strings.HasSuffix(head, ":"+v.Head) {
		t.Errorf("the step changed the chain: %+v (head was %s)", v, head)
	}
	in := sample("/line/b.png", verdict.Reject, 0.9)
	in.DefectClass, in.DefectPatches = "class 2", 1
	id, err := s.Add(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) != 0 || v.ByKind["class"] != 1 {
		t.Errorf("after a classed strip: %+v", v)
	}
	if rows, err := s.History(context.Background(), Query{}); err != nil || len(rows) != 2 || rows[0].DefectClass != "" || rows[1].ID != id || rows[1].DefectClass != "class 2" {
		t.Errorf("history after the step: %+v %v", rows, err)
	}
}

// TestClassEntryMatchesTheStationTrail: a trail kept outside SQLite (the
// PostgreSQL trail API instances share) chains a strip's class exactly as
// a station's own trail does: same payload, same hash.
func TestClassEntryMatchesTheStationTrail(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	in := sample("/line/a.png", verdict.Reject, 0.9)
	in.InspectedAt = time.Date(2026, 12, 1, 9, 30, 0, 250000000, time.FixedZone("CET", 3600))
	in.DefectClass, in.DefectPatches = "class 3", 2
	id, err := s.Add(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := s.Chain(ctx)
	if err != nil || len(chain) != 2 {
		t.Fatalf("chain %d entries, %v", len(chain), err)
	}
	e, err := InspectionEntry(ChainEntry{}, id, in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ClassEntry(e, chain[1].RowID, id, in)
	if err != nil {
		t.Fatal(err)
	}
	if e != chain[0] || c != chain[1] {
		t.Errorf("built\n %+v\n %+v\nstored\n %+v\n %+v", e, c, chain[0], chain[1])
	}
	in.DefectClass = ""
	if _, err := ClassEntry(e, 2, id, in); err == nil {
		t.Error("a class entry for a strip without a class")
	}
}
