package central

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"time"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"steelinspect/report"
	"steelinspect/verdict"
)

// Chart sizes, in pixels, when the caller has no preference.
const (
	ChartWidth  = 1200
	ChartHeight = 600
)

// chartDPI maps the plot's points to the PNG's pixels.
const chartDPI = 96

// Chart writes the report's counts as a PNG chart of width×height pixels:
// one bar per station (its shifts added up), stacked by final decision
// in the zone colours (PASS green, REVIEW orange, REJECT red), the total
// above each bar and, under the station's name, its share of strips sent
// to review and of automatic decisions overridden. The title states the
// period's start as since reads (the caller picks its location).
func Chart(w io.Writer, rows []ReportRow, since time.Time, width, height int) error {
	if width < 600 || height < 300 {
		return fmt.Errorf("chart: %d×%d pixels is too small (at least 600×300)", width, height)
	}
	c := vgimg.NewWith(vgimg.UseWH(pixels(width), pixels(height)), vgimg.UseDPI(chartDPI))
	p, err := chartPlot(rows, since, chartArea(c))
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	p.Draw(chartArea(c))
	_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / chartDPI }

// chartArea is the canvas less a margin, wider on the right where the
// legend and the last label would otherwise touch the edge.
func chartArea(c vg.CanvasSizer) draw.Canvas {
	return draw.Crop(draw.New(c), vg.Points(6), -vg.Points(14), vg.Points(4), -vg.Points(6))
}

// stationTotals adds up each station's shifts, stations by name.
func stationTotals(rows []ReportRow) []ReportRow {
	by := map[string]*ReportRow{}
	for _, r := range rows {
		s := by[r.Station]
		if s == nil {
			s = &ReportRow{Station: r.Station, Shift: "all"}
			by[r.Station] = s
		}
		s.Total += r.Total
		s.Pass += r.Pass
		s.Review += r.Review
		s.Reject += r.Reject
		s.AutoReview += r.AutoReview
		s.Overridden += r.Overridden
	}
	out := make([]ReportRow, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Station < out[j].Station })
	return out
}

// stationLabel is a station's tick label: its name (a long one cut to
// 20 characters) and rates.
func stationLabel(r ReportRow) string {
	name := []rune(r.Station)
	if len(name) > 20 {
		name = append(name[:19], '…')
	}
	return fmt.Sprintf("%s\nreview %.1f %%\noverridden %.1f %%", string(name), 100*r.ReviewRate(), 100*r.OverrideRate())
}

// decisionSeries is one layer of the stacked bars.
type decisionSeries struct {
	name   string
	colour color.Color
	count  func(ReportRow) int
}

var decisionLayers = []decisionSeries{
	{verdict.Pass.String(), report.DecisionColor(verdict.Pass), func(r ReportRow) int { return r.Pass }},
	{verdict.Review.String(), report.DecisionColor(verdict.Review), func(r ReportRow) int { return r.Review }},
	{verdict.Reject.String(), report.DecisionColor(verdict.Reject), func(r ReportRow) int { return r.Reject }},
}

// chartPlot lays out the chart for canvas c (whose size sets the bars'
// width and the labels' font).
func chartPlot(rows []ReportRow, since time.Time, c draw.Canvas) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Inspections since " + since.Format("2006-01-02 15:04")
	p.Title.TextStyle.Font = sans(16)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Title.Padding = vg.Points(10)
	stations := stationTotals(rows)
	if len(stations) == 0 {
		p.Title.Text += ": none"
		p.HideAxes()
		return p, nil
	}
	p.Y.Label.Text = "strips"
	p.Y.Label.TextStyle.Font = sans(12)
	p.Y.Tick.Label.Font = sans(11)
	p.Y.Tick.Marker = integerTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Label.Text = "stations, their shifts added up; under each, the share of its strips sent to review\n" +
		"and the share of its automatic PASS or REJECT decisions an operator overrode"
	p.X.Label.TextStyle.Font = sans(10)
	p.X.Tick.Label.Font = sans(11)
	p.X.Label.Padding = vg.Points(8)
	p.X.Min, p.X.Max = -0.5, float64(len(stations))-0.5
	grid := plotter.NewGrid() // horizontal lines only: the stations' slots need no vertical ones
	grid.Vertical.Color = nil
	p.Add(grid)
	labels := make([]string, len(stations))
	for i, s := range stations {
		labels[i] = stationLabel(s)
	}
	p.NominalX(labels...)
	p.Y.Padding = 0
	da := p.DataCanvas(c)
	slot := (da.Max.X - da.Min.X) / vg.Length(len(stations))
	p.Y.Max = headroom(stations, da.Max.Y-da.Min.Y)
	p.X.Tick.Label.Font.Size = labelSize(p, labels, slot)
	if err := addBars(p, stations, min(slot*0.6, vg.Points(150))); err != nil {
		return nil, err
	}
	return p, addTotals(p, stations)
}

// sans is the chart's face: plot's Liberation in its sans-serif variant,
// easier to read small than the default serif.
func sans(points float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(points)}
}

// headroom is the y axis's top: room above the tallest bar, in a data
// area height high, for its total and the legend (three lines of 12
// points).
func headroom(stations []ReportRow, height vg.Length) float64 {
	most := 1
	for _, s := range stations {
		most = max(most, s.Total)
	}
	room := min(float64((3*14+4+16)/height), 0.5)
	return float64(most) / (1 - room) * 1.02
}

// labelSize is the largest tick label font, 11 points down to 7, whose
// widest line fits in a station's slot.
func labelSize(p *plot.Plot, labels []string, slot vg.Length) font.Length {
	sty := p.X.Tick.Label
	for size := vg.Points(11); size > vg.Points(7); size -= vg.Points(1) {
		sty.Font.Size = size
		if widest(sty, labels) <= slot*0.85 {
			return size
		}
	}
	return vg.Points(7)
}

func widest(sty interface{ Width(string) vg.Length }, labels []string) vg.Length {
	var w vg.Length
	for _, l := range labels {
		for _, line := range plot.DefaultTextHandler.Lines(l) {
			w = max(w, sty.Width(line))
		}
	}
	return w
}

// addBars stacks the decisions' bars, PASS at the bottom, and names them
// in the legend (top right, above the bars thanks to the headroom).
func addBars(p *plot.Plot, stations []ReportRow, width vg.Length) error {
	var below *plotter.BarChart
	var legend []*plotter.BarChart
	for _, layer := range decisionLayers {
		vs := make(plotter.Values, len(stations))
		for i, s := range stations {
			vs[i] = float64(layer.count(s))
		}
		bars, err := plotter.NewBarChart(vs, width)
		if err != nil {
			return err
		}
		bars.Color = layer.colour
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		p.Add(bars)
		below = bars
		legend = append([]*plotter.BarChart{bars}, legend...)
	}
	for i, bars := range legend { // as stacked: REJECT on top
		p.Legend.Add(decisionLayers[len(legend)-1-i].name, bars)
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font = sans(12)
	return nil
}

// addTotals writes each station's strip count above its bar.
func addTotals(p *plot.Plot, stations []ReportRow) error {
	xys := make(plotter.XYs, len(stations))
	texts := make([]string, len(stations))
	for i, s := range stations {
		xys[i] = plotter.XY{X: float64(i), Y: float64(s.Total)}
		texts[i] = fmt.Sprint(s.Total)
	}
	totals, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range totals.TextStyle {
		totals.TextStyle[i].Font = sans(11)
		totals.TextStyle[i].XAlign = draw.XCenter
		totals.TextStyle[i].YAlign = draw.YBottom
	}
	totals.Offset = vg.Point{Y: vg.Points(3)}
	p.Add(totals)
	return nil
}

// integerTicks are the default ticks less the fractional ones: strips
// are counted whole.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value != math.Trunc(t.Value) {
			continue
		}
		if t.Label != "" {
			t.Label = fmt.Sprintf("%.0f", t.Value)
		}
		out = append(out, t)
	}
	return out
}
