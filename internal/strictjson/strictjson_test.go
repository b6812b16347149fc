package strictjson

import (
	"strings"
	"testing"
)

type metrics struct {
	AUC   *float64  `json:"patch_auc"`
	Why   string    `json:"patch_auc_why,omitempty"`
	Count int       `json:"count"`
	List  []float64 `json:"list"`
}

type doc struct {
	Name       string `json:"name"`
	Provenance struct {
		Validation map[string]metrics `json:"metrics_validation"`
	} `json:"provenance"`
}

func TestDecodeNamesTheFieldItCouldNotRead(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"python NaN", "{\n  \"name\": \"m\",\n  \"provenance\": {\"metrics_validation\": {\"real-masked\": {\"patch_auc\": NaN}}}\n}",
			[]string{`field "provenance.metrics_validation.real-masked.patch_auc"`, "line 3", "NaN is not JSON", "null"}},
		{"python Infinity", `{"provenance": {"metrics_validation": {"s": {"count": 1, "patch_auc": Infinity}}}}`,
			[]string{`"provenance.metrics_validation.s.patch_auc"`, "Infinity is not JSON"}},
		{"minus Infinity in a list", `{"provenance": {"metrics_validation": {"s": {"list": [1, 2, -Infinity]}}}}`,
			[]string{`"provenance.metrics_validation.s.list[2]"`, "-Infinity is not JSON"}},
		{"wrong type", `{"provenance": {"metrics_validation": {"s": {"count": "three"}}}}`,
			[]string{`"provenance.metrics_validation.s.count"`, "a JSON string where int was expected"}},
		{"unknown field", `{"nmae": "m"}`, []string{`unknown field "nmae"`}},
		{"cut short", `{"name": "m", "provenance": {`, []string{"ends early"}},
		{"trailing data", `{"name": "m"} {}`, []string{"more data after the JSON value"}},
		{"bad character at the top", `x`, []string{"line 1, column 1", "invalid character 'x'"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(c.in), &d)
			if err == nil {
				t.Fatalf("Decode(%q) accepted it", c.in)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDecodeReadsNullMetricsWithTheirReason(t *testing.T) {
	var d doc
	in := `{"name": "m", "provenance": {"metrics_validation": {"real-weak": {"patch_auc": null, "patch_auc_why": "one class only in this split", "count": 2}}}}`
	if err := Decode([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	m := d.Provenance.Validation["real-weak"]
	if m.AUC != nil || m.Why != "one class only in this split" || m.Count != 2 {
		t.Fatalf("decoded %+v", m)
	}
}
