package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"strip-001.png":          "strip-001.png",
		"=HYPERLINK(\"x\")":      "'=HYPERLINK(\"x\")",
		"+1":                     "'+1",
		"-cmd":                   "'-cmd",
		"@SUM(A1)":               "'@SUM(A1)",
		"\tx":                    "<U+0009>x",
		"gpj.\u202eexe":          "gpj.<U+202E>exe",
		"a\u200bb":               "a<U+200B>b",
		"line 1\nline 2":         "line 1<U+000A>line 2",
		"0.400000":               "0.400000",
		"Station Nord – Linie 2": "Station Nord – Linie 2",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterNeutralisesEveryCell(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write([]string{"=1+1", "ok", "x\u202ey"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "'=1+1" || rows[0][1] != "ok" || rows[0][2] != "x<U+202E>y" {
		t.Errorf("rows %q %v", rows, err)
	}
}
