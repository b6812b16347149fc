package verdict

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenRecords are records as the CLI and the HTTP API write them: a
// REJECT with its patches and an image that could not be analysed. They
// are read from the wire format, so the golden file was written by the
// code before the record's decision was typed and must still come out
// byte for byte.
const goldenRecords = `[
{"path":"a.jpg","decision":"REJECT","confidence":0.9,"confidence_level":"High","mean_probability":0.45,"zones":{"auto_pass":1,"manual_review":0,"auto_reject":1},"zone_percent":{"auto_pass":50,"manual_review":0,"auto_reject":50},"recommendation":"Auto-reject: defect detected, take the strip off the line","defect_class":"scratch","patches":[{"x":0,"y":0,"w":256,"h":256,"probability":0.1,"zone":"auto_pass"},{"x":256,"y":0,"w":256,"h":256,"probability":0.9,"class":"scratch","zone":"auto_reject"}],"image":{"width":512,"height":256,"format":"jpeg","bytes":1000,"sha256":"aa"},"model":{"name":"m","version":"1","sha256":"bb"},"thresholds":{"pass":0.4,"reject":0.65},"timings_ms":{"decode":1,"inference":2,"model":1.5,"total":3}},
{"path":"b.jpg","decision":"REVIEW","confidence":0.3,"mean_probability":0.2,"zones":{"auto_pass":1,"manual_review":0,"auto_reject":0},"zone_percent":{"auto_pass":100,"manual_review":0,"auto_reject":0},"cautions":[{"kind":"unfamiliar","reason":"unlike the training strips"}],"familiarity":{"score":3.5,"limit":2,"unfamiliar":true},"model":{"name":"m","version":"1","sha256":"bb"},"thresholds":{"pass":0.4,"reject":0.65}},
{"path":"c.jpg","decision":"PASS","confidence":0.1,"mean_probability":0.05,"zones":{"auto_pass":1,"manual_review":0,"auto_reject":0},"zone_percent":{"auto_pass":100,"manual_review":0,"auto_reject":0},"model":{"name":"m","version":"1","sha256":"bb"},"thresholds":{"pass":0.4,"reject":0.65}}
]`

func TestRecordJSONIsUnchanged(t *testing.T) {
	var list []Record
	if err := json.Unmarshal([]byte(goldenRecords), &list); err != nil {
		t.Fatal(err)
	}
	list = append(list, ErrorRecord("d.jpg", errors.New("not an image"), ModelIdentity{Name: "m", Version: "1", SHA256: "bb"}, DefaultThresholds))
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	for _, r := range list {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "records.jsonl")
	if os.Getenv("STEELINSPECT_GOLDEN") == "1" {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("records differ from before:\n got %s\nwant %s", out.Bytes(), want)
	}
}

// A decision reads and writes as its name, and anything else is refused
// with an error that names it: in JSON, in a database column, in text.
func TestAnUnknownDecisionIsRefused(t *testing.T) {
	var r Record
	err := json.Unmarshal([]byte(`{"path":"a.jpg","decision":"MAYBE"}`), &r)
	if err == nil || !strings.Contains(err.Error(), `unknown decision "MAYBE" (want PASS, REVIEW or REJECT)`) {
		t.Errorf("record with an unknown decision: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"decision":3}`), &r); err == nil {
		t.Error("record with a number for its decision accepted")
	}
	var v Verdict
	if err := json.Unmarshal([]byte(`{"decision":"pass"}`), &v); err == nil || !strings.Contains(err.Error(), `unknown decision "pass"`) {
		t.Errorf("verdict with a lower-case decision: %v", err)
	}
	var d Decision
	for _, src := range []any{"OK", []byte(""), nil, int64(0)} {
		if err := d.Scan(src); err == nil {
			t.Errorf("decision column %#v accepted as %v", src, d)
		}
	}
	var o Optional
	for _, src := range []any{"OK", []byte("pass"), int64(0)} {
		if err := o.Scan(src); err == nil {
			t.Errorf("operator decision column %#v accepted as %v", src, o)
		}
	}
	if _, err := Decision(7).MarshalText(); err == nil {
		t.Error("a value that is no decision was written")
	}
	if _, err := json.Marshal(Record{Decision: Some(Decision(-1))}); err == nil {
		t.Error("a record whose decision is no decision was written")
	}
	if _, err := Decision(3).Value(); err == nil {
		t.Error("a value that is no decision went to a database column")
	}
}

// No decision is never PASS, though PASS is the zero Decision: not in Go,
// not in JSON, not in a database column, not in the override rule.
func TestNoDecisionIsNotPass(t *testing.T) {
	var none Optional
	if d, ok := none.Get(); ok || none.Is(Pass) || !none.IsZero() || none.String() != "" {
		t.Errorf("no decision reads as %v, %v", d, ok)
	}
	if Final(Review, none) != Review || Final(Reject, Some(Pass)) != Pass {
		t.Error("the override rule")
	}
	for _, in := range []string{`null`, `""`} {
		o := Some(Pass)
		if err := json.Unmarshal([]byte(in), &o); err != nil || !o.IsZero() {
			t.Errorf("%s read as %v, %v", in, o, err)
		}
	}
	for _, src := range []any{nil, "", []byte("")} {
		o := Some(Reject)
		if err := o.Scan(src); err != nil || !o.IsZero() {
			t.Errorf("column %#v read as %v, %v", src, o, err)
		}
	}
	if v, err := none.Value(); v != nil || err != nil {
		t.Errorf("no decision goes to a column as %#v, %v; want NULL", v, err)
	}
	if v, err := Some(Pass).Value(); v != "PASS" || err != nil {
		t.Errorf("PASS goes to a column as %#v, %v", v, err)
	}
	if v, err := Reject.Value(); v != "REJECT" || err != nil {
		t.Errorf("REJECT goes to a column as %#v, %v", v, err)
	}
	b, err := json.Marshal(ErrorRecord("x.jpg", errors.New("bad"), ModelIdentity{}, DefaultThresholds))
	if err != nil || strings.Contains(string(b), "decision") {
		t.Errorf("a failed image's record: %s %v", b, err)
	}
	for _, d := range []Decision{Pass, Review, Reject} {
		var back Optional
		b, err := json.Marshal(Some(d))
		if err != nil || json.Unmarshal(b, &back) != nil || !back.Is(d) {
			t.Errorf("%v round trip: %s %v %v", d, b, back, err)
		}
		if p, err := ParseOptional(d.String()); err != nil || !p.Is(d) {
			t.Errorf("ParseOptional(%q) = %v, %v", d, p, err)
		}
	}
	if p, err := ParseOptional(""); err != nil || !p.IsZero() {
		t.Errorf(`ParseOptional("") = %v, %v`, p, err)
	}
	if _, err := ParseOptional("NONE"); err == nil {
		t.Error("ParseOptional accepted an unknown decision")
	}
}
