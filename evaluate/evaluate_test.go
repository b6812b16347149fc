package evaluate

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"steelinspect/verdict"
)

func TestDecodeRLEHandMade(t *testing.T) {
	// 3 wide × 4 high; pixels numbered down columns: column 0 is 1..4,
	// column 1 is 5..8. "3 4" runs from (0,2) across into column 1 to (1,1).
	m, err := DecodeRLE("3 4 12 1", 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".#.",
		".#.",
		"#..",
		"#.#",
	}
	for y, row := range want {
		for x, c := range row {
			if got := m.Pix[y*3+x]; got != (c == '#') {
				t.Errorf("pixel (%d,%d) = %v, want %c", x, y, got, c)
			}
		}
	}
}

func TestRLERoundTrip(t *testing.T) {
	cases := []string{"", "1 1", "1 1024", "250 20 600 3", "409600 1", "1 409600"}
	for _, rle := range cases {
		m, err := DecodeRLE(rle, StripWidth, StripHeight)
		if err != nil {
			t.Fatalf("%q: %v", rle, err)
		}
		if got := EncodeRLE(m); got != rle {
			t.Errorf("round trip %q gave %q", rle, got)
		}
	}
	// An independently drawn box, x 100..109 and y 20..49: ten column runs
	// of 30 pixels, the first starting at 100*256 + 20 + 1.
	m := &Mask{Width: StripWidth, Height: StripHeight, Pix: make([]bool, StripWidth*StripHeight)}
	for x := 100; x < 110; x++ {
		for y := 20; y < 50; y++ {
			m.Pix[y*StripWidth+x] = true
		}
	}
	rle := EncodeRLE(m)
	if !strings.HasPrefix(rle, "25621 30 25877 30") || strings.Count(rle, " ") != 19 {
		t.Errorf("box encodes as %q", rle)
	}
	back, _ := DecodeRLE(rle, StripWidth, StripHeight)
	if back.Count(0, 0, StripWidth, StripHeight) != 300 || back.Count(100, 20, 110, 50) != 300 {
		t.Error("box did not decode back")
	}
}

func TestParseLabelsBothLayouts(t *testing.T) {
	current := "ImageId,ClassId,EncodedPixels\na.jpg,1,1 10\na.jpg,3,100 5\nb.jpg,4,7 2\n"
	older := "ImageId_ClassId,EncodedPixels\na.jpg_1,1 10\na.jpg_2,\na.jpg_3,100 5\na.jpg_4,\nb.jpg_1,\nb.jpg_2,\nb.jpg_3,\nb.jpg_4,7 2\nc.jpg_1,\n"
	for _, text := range []string{current, older} {
		l, err := ParseLabels(strings.NewReader(text), StripWidth, StripHeight)
		if err != nil {
			t.Fatalf("%v", err)
		}
		a, b := l.Strips["a.jpg"], l.Strips["b.jpg"]
		if a == nil || b == nil || !a.Defective() || len(a.ClassIDs()) != 2 || a.ClassIDs()[1] != 3 || b.ClassIDs()[0] != 4 {
			t.Errorf("%s: parsed %+v %+v", l.Layout, a, b)
		}
		if c := l.Strips["c.jpg"]; c != nil && c.Defective() {
			t.Errorf("c.jpg has only empty rows but is defective")
		}
	}
}

func TestParseLabelsReportsLines(t *testing.T) {
	text := "ImageId,ClassId,EncodedPixels\n" +
		"a.jpg,1,1 10\n" + // 2 ok
		"a.jpg,1,5 5\n" + // 3 duplicate
		"b.jpg,2,1 2 3\n" + // 4 odd count
		"c.jpg,3,409600 2\n" + // 5 past the end
		"d.jpg,x,1 1\n" + // 6 bad class
		"e.jpg,1,1 abc\n" // 7 not a number
	_, err := ParseLabels(strings.NewReader(text), StripWidth, StripHeight)
	if err == nil {
		t.Fatal("bad labels accepted")
	}
	for _, want := range []string{"line 3: duplicate", "line 4: b.jpg class 2: RLE has 3 numbers", "line 5: c.jpg class 3: RLE pair 1 (409600 2) runs past", "line 6: class id", "line 7: e.jpg class 1: RLE pair 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseLabels(strings.NewReader("id,mask\n"), StripWidth, StripHeight); err == nil {
		t.Error("unknown header accepted")
	}
}

func TestMetricsHandComputed(t *testing.T) {
	scores := []float32{0.9, 0.8, 0.7, 0.3, 0.2, 0.1}
	truth := []bool{true, false, true, true, false, false}
	c := ConfusionAt(scores, truth, 0.5)
	if c != (Confusion{TP: 2, FP: 1, TN: 2, FN: 1}) {
		t.Fatalf("confusion %+v", c)
	}
	if math.Abs(c.Recall()-2.0/3) > 1e-12 || math.Abs(c.Precision()-2.0/3) > 1e-12 || math.Abs(c.F2()-2.0/3) > 1e-12 {
		t.Errorf("recall %v precision %v f2 %v", c.Recall(), c.Precision(), c.F2())
	}
	// Positives at ranks 6,4,3 (ascending) of 6: pairs won = (2+... ) → AUC 7/9.
	if got := ROCAUC(scores, truth); math.Abs(got-7.0/9) > 1e-12 {
		t.Errorf("AUC %v, want 7/9", got)
	}
	// AP: positives at positions 1,3,4 → (1/1 + 2/3 + 3/4)/3.
	if got := AveragePrecision(scores, truth); math.Abs(got-(1+2.0/3+3.0/4)/3) > 1e-12 {
		t.Errorf("AP %v", got)
	}
	// All tied: AUC one half.
	if got := ROCAUC([]float32{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false}); got != 0.5 {
		t.Errorf("tied AUC %v", got)
	}
	if !math.IsNaN(ROCAUC([]float32{0.1}, []bool{true})) {
		t.Error("AUC without negatives should be undefined")
	}
}

func TestOutcomeAndSweepSuggestion(t *testing.T) {
	// Defective strips score 0.55..0.95, clean ones 0.05..0.50: any pass in
	// 0.51..0.55 approves every clean strip, and a reject below 0.55 rejects
	// every defective one, so nothing is reviewed. The first such pair in
	// sweep order is 0.51/0.52.
	conf := []float64{0.55, 0.7, 0.95, 0.05, 0.2, 0.5}
	def := []bool{true, true, true, false, false, false}
	o := OutcomeAt(conf, def, verdict.Thresholds{Pass: 0.4, Reject: 0.65})
	if o.Missed != 0 || o.FalseAlarms != 0 || o.Reviewed != 2 || o.Table[verdict.Review] != [2]int{1, 1} {
		t.Errorf("outcome %+v", o)
	}
	best, ok := Suggest(Sweep(conf, def), 0)
	if !ok || best.Reviewed != 0 || best.Missed != 0 || best.FalseAlarms != 0 || best.Thresholds != (verdict.Thresholds{Pass: 0.51, Reject: 0.52}) {
		t.Errorf("suggested %+v", best)
	}
	// A faint defect (0.1) below two clean strips (0.2, 0.3): catching it
	// means pass <= 0.10; rejecting no clean strip then means a reject
	// threshold of 0.30 or more (REJECT is above it), so the three go to review (least review first suggested
	// 0.00/0.01, rejecting both clean strips); allowing one miss buys a
	// clean split at 0.31/0.32.
	conf = []float64{0.1, 0.9, 0.2, 0.3}
	def = []bool{true, true, false, false}
	strict, _ := Suggest(Sweep(conf, def), 0)
	if strict.Thresholds != (verdict.Thresholds{Pass: 0, Reject: 0.30}) || strict.FalseAlarms != 0 || strict.Reviewed != 3 || strict.Missed != 0 {
		t.Errorf("strict suggestion %+v", strict)
	}
	lenient, _ := Suggest(Sweep(conf, def), 1)
	if lenient.Thresholds != (verdict.Thresholds{Pass: 0.31, Reject: 0.32}) || lenient.Missed != 1 || lenient.FalseAlarms != 0 {
		t.Errorf("lenient suggestion %+v", lenient)
	}
}

// TestOneClassSplitWritesNullWithItsReason: a split of defect-free strips
// only has no AUC; the JSON report says null and why, never NaN (issue 27).
func TestOneClassSplitWritesNullWithItsReason(t *testing.T) {
	r := &Report{Thresholds: verdict.Thresholds{Pass: 0.4, Reject: 0.65}, PerClass: map[int]ClassMisses{},
		Strips: []StripResult{{ImageID: "a.jpg", Confidence: 0.2, Probabilities: []float32{0.1, 0.2}, PatchTruth: []bool{false, false}}}}
	r.measure()
	out, err := json.Marshal(r.Patch)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"roc_auc":null`, `"pr_auc":null`, `"auc_why":"one class only in this split (0 defective, 2 defect-free patches)"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("patch metrics %s do not hold %s", out, want)
		}
	}
}
