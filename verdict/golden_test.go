package verdict

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
