package central

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"

	"steelinspect/report"
	"steelinspect/verdict"
)

var chartSince = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

// chartRows: three stations over two or three shifts; line2 rejects
// line2Rejects strips (taken from its PASS, so the totals, and the y
// axis, stay the same).
func chartRows(line2Rejects int) []ReportRow {
	return []ReportRow{
		{Station: "line1", Shift: "early", Total: 40, Pass: 30, Review: 6, Reject: 4, AutoReview: 6, Overridden: 1},
		{Station: "line1", Shift: "late", Total: 30, Pass: 25, Review: 3, Reject: 2, AutoReview: 3},
		{Station: "line2", Shift: "early", Total: 50, Pass: 45 - line2Rejects, Review: 5, Reject: line2Rejects, AutoReview: 5},
		{Station: "line2", Shift: "night", Total: 20, Pass: 18, Review: 2, AutoReview: 2, Overridden: 2},
		{Station: "line3", Shift: "early", Total: 35, Pass: 20, Review: 5, Reject: 10, AutoReview: 5},
		{Station: "line3", Shift: "late", Total: 25, Pass: 15, Review: 2, Reject: 8, AutoReview: 2},
		{Station: "line3", Shift: "night", Total: 10, Pass: 6, Review: 1, Reject: 3, AutoReview: 1},
	}
}

func renderChart(t *testing.T, rows []ReportRow, w, h int) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := Chart(&buf, rows, chartSince, w, h); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	return img
}

var (
	passColour   = report.DecisionColor(verdict.Pass)
	reviewColour = report.DecisionColor(verdict.Review)
	rejectColour = report.DecisionColor(verdict.Reject)
)

func is(img image.Image, x, y int, c color.NRGBA) bool {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c
}

// count is the number of pixels of colour c with x in [x0, x1).
func count(img image.Image, c color.NRGBA, x0, x1 int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := max(x0, b.Min.X); x < min(x1, b.Max.X); x++ {
			if is(img, x, y, c) {
				n++
			}
		}
	}
	return n
}

// bars finds the bars as the runs of columns whose lower half holds the
// PASS colour (the legend is at the top), left to right.
func bars(img image.Image) [][2]int {
	b := img.Bounds()
	var runs [][2]int
	in := false
	for x := b.Min.X; x < b.Max.X; x++ {
		has := false
		for y := b.Min.Y + b.Dy()/2; y < b.Max.Y && !has; y++ {
			has = is(img, x, y, passColour)
		}
		switch {
		case has && !in:
			runs = append(runs, [2]int{x, x + 1})
		case has:
			runs[len(runs)-1][1] = x + 1
		}
		in = has
	}
	return runs
}

func TestChartSizeAndColours(t *testing.T) {
	for _, size := range [][2]int{{ChartWidth, ChartHeight}, {800, 400}} {
		img := renderChart(t, chartRows(0), size[0], size[1])
		if img.Bounds().Dx() != size[0] || img.Bounds().Dy() != size[1] {
			t.Errorf("chart is %v, want %d×%d", img.Bounds(), size[0], size[1])
		}
		for name, c := range map[string]color.NRGBA{"PASS": passColour, "REVIEW": reviewColour, "REJECT": rejectColour} {
			if n := count(img, c, 0, size[0]); n < 500 {
				t.Errorf("%d×%d: %d pixels of the %s colour %v", size[0], size[1], n, name, c)
			}
		}
	}
	if err := Chart(&bytes.Buffer{}, chartRows(0), chartSince, 500, 300); err == nil {
		t.Error("a 500×300 chart was drawn")
	}
}

// TestChartFollowsTheData: one bar per station; a station with no REJECT
// has no red in its bar, and turning 30 of its PASS into REJECT paints
// as much red as it takes green away.
func TestChartFollowsTheData(t *testing.T) {
	before := renderChart(t, chartRows(0), ChartWidth, ChartHeight)
	bs := bars(before)
	if len(bs) != 3 {
		t.Fatalf("found bars at columns %v, want 3 (one per station)", bs)
	}
	for i, want := range []bool{true, false, true} {
		if got := count(before, rejectColour, bs[i][0], bs[i][1]) > 0; got != want {
			t.Errorf("bar %d (line%d) holds the REJECT colour: %v, want %v", i, i+1, got, want)
		}
	}
	if w0, w1 := bs[0][1]-bs[0][0], bs[1][1]-bs[1][0]; w0 < 40 || w0-w1 > 1 || w1-w0 > 1 {
		t.Errorf("bar widths %d and %d pixels", w0, w1)
	}

	after := renderChart(t, chartRows(30), ChartWidth, ChartHeight)
	if got := bars(after); fmt.Sprint(got) != fmt.Sprint(bs) {
		t.Fatalf("bars moved: %v, then %v", bs, got)
	}
	red := count(after, rejectColour, bs[1][0], bs[1][1])
	green := count(before, passColour, bs[1][0], bs[1][1]) - count(after, passColour, bs[1][0], bs[1][1])
	if red < 2000 || float64(red) < 0.95*float64(green) || float64(red) > 1.05*float64(green) {
		t.Errorf("30 strips turned from PASS to REJECT: %d red pixels added, %d green taken away", red, green)
	}
	for _, i := range []int{0, 2} {
		if b, a := count(before, rejectColour, bs[i][0], bs[i][1]), count(after, rejectColour, bs[i][0], bs[i][1]); a != b {
			t.Errorf("line%d's bar changed: %d red pixels, then %d", i+1, b, a)
		}
	}
	// 21 of line3's 70 strips are REJECT, 6 of line1's 70
	r1, r3 := count(before, rejectColour, bs[0][0], bs[0][1]), count(before, rejectColour, bs[2][0], bs[2][1])
	if ratio := float64(r3) / float64(r1); ratio < 21.0/6*0.85 || ratio > 21.0/6*1.15 {
		t.Errorf("red in line3's bar / line1's = %.2f, want about %.2f", ratio, 21.0/6)
	}
}

func TestChartNoRows(t *testing.T) {
	img := renderChart(t, nil, ChartWidth, ChartHeight)
	if img.Bounds().Dx() != ChartWidth || img.Bounds().Dy() != ChartHeight {
		t.Errorf("empty chart is %v", img.Bounds())
	}
	for _, c := range []color.NRGBA{passColour, reviewColour, rejectColour} {
		if n := count(img, c, 0, ChartWidth); n != 0 {
			t.Errorf("no inspections, yet %d pixels of %v", n, c)
		}
	}
}

// TestChartStationLabels: a station's shifts are added up before its
// rates are taken (not the shifts' rates averaged).
func TestChartStationLabels(t *testing.T) {
	st := stationTotals(chartRows(0))
	if len(st) != 3 || st[0].Station != "line1" || st[2].Station != "line3" {
		t.Fatalf("stations %+v", st)
	}
	if st[0].Total != 70 || st[0].Pass != 55 || st[0].Review != 9 || st[0].Reject != 6 || st[0].AutoReview != 9 || st[0].Overridden != 1 {
		t.Errorf("line1 %+v", st[0])
	}
	// line2: review 7 of 70; overridden 2 of the 63 decided automatically
	if got, want := stationLabel(st[1]), "line2\nreview 10.0 %\noverridden 3.2 %"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	long := ReportRow{Station: "hot-strip-mill-3-coiler-exit", Total: 4, AutoReview: 1}
	if got, want := stationLabel(long), "hot-strip-mill-3-co…\nreview 25.0 %\noverridden 0.0 %"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
}

// TestChartLabelsFit: the tick labels' widest line leaves a gap in a
// station's slot, so neighbours do not touch: three stations' labels at
// the full 11 points, ten stations' of long names smaller.
func TestChartLabelsFit(t *testing.T) {
	for _, n := range []int{3, 10} {
		var rows []ReportRow
		for i := range n {
			for _, shift := range []string{"early", "late", "night"} {
				rows = append(rows, ReportRow{Station: fmt.Sprintf("coil-line-%02d", i), Shift: shift, Total: 900, Pass: 800, Review: 60,
					Reject: 40, AutoReview: 60, Overridden: 13})
			}
		}
		c := vgimg.NewWith(vgimg.UseWH(pixels(ChartWidth), pixels(ChartHeight)), vgimg.UseDPI(chartDPI))
		p, err := chartPlot(rows, chartSince, chartArea(c))
		if err != nil {
			t.Fatal(err)
		}
		da := p.DataCanvas(chartArea(c))
		slot := (da.Max.X - da.Min.X) / vg.Length(n)
		var labels []string
		for _, s := range stationTotals(rows) {
			labels = append(labels, stationLabel(s))
		}
		size := p.X.Tick.Label.Font.Size
		if w := widest(p.X.Tick.Label, labels); w > 0.9*slot || size < vg.Points(7) {
			t.Errorf("%d stations: widest label line %.1f pt at %.0f pt in a %.1f pt slot", n, w, size, slot)
		}
		if n == 3 && size != vg.Points(11) || n == 10 && size > vg.Points(10) {
			t.Errorf("%d stations: labels at %.0f pt", n, size)
		}
	}
}

// TestShiftsInTheOrderOfTheDay: a station's shifts read early, late,
// night, whatever order the hours came in.
func TestShiftsInTheOrderOfTheDay(t *testing.T) {
	rows := []ReportRow{{Station: "b", Shift: "night"}, {Station: "a", Shift: "night"}, {Station: "a", Shift: "early"},
		{Station: "b", Shift: "late"}, {Station: "a", Shift: "late"}}
	sortShifts(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.Station+" "+r.Shift)
	}
	if want := "a early,a late,a night,b late,b night"; strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
