package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
