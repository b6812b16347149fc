package evaluate

import (
	"fmt"
	"image/color"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"steelinspect/verdict"
)

var (
	colourClean     = color.NRGBA{0x2e, 0xa0, 0x43, 0xff}
	colourDefective = color.NRGBA{0xe0, 0x2b, 0x2b, 0xff}
	colourReview    = color.NRGBA{0xf0, 0x8c, 0x00, 0xff}
)

// WritePlots saves the report's figures as PNG files in dir:
// histogram.png (strip confidence of defective vs defect-free strips with
// both thresholds), roc.png (patch-level ROC curve) and sweep.png (missed,
// false-alarm and review rates as the pass threshold moves, reject fixed).
// It returns the files written.
//
// Cyclomatic complexity above 15, kept: three plots drawn in sequence, each with its error checks.
//
//gocyclo:ignore
func WritePlots(r *Report, dir string) ([]string, error) {
	var clean, defective plotter.Values
	var scores []float32
	var truth []bool
	for _, s := range r.Strips {
		if s.Error != "" {
			continue
		}
		if s.Defective {
			defective = append(defective, s.Confidence)
		} else {
			clean = append(clean, s.Confidence)
		}
		scores = append(scores, s.Probabilities...)
		truth = append(truth, s.PatchTruth...)
	}
	var written []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, name)
		if err := p.Save(8*vg.Inch, 4*vg.Inch, path); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		written = append(written, path)
		return nil
	}

	h := plot.New()
	h.Title.Text = fmt.Sprintf("Strip confidence (max patch probability), %s %s", r.Model.Name, r.Model.Version)
	h.X.Label.Text, h.Y.Label.Text = "confidence", "strips"
	h.X.Min, h.X.Max = 0, 1
	for _, series := range []struct {
		v      plotter.Values
		colour color.Color
		name   string
	}{{clean, colourClean, "defect-free"}, {defective, colourDefective, "defective"}} {
		if len(series.v) == 0 {
			continue
		}
		hist, err := plotter.NewHist(series.v, 50)
		if err != nil {
			return written, err
		}
		hist.FillColor = withAlpha(series.colour, 0x90)
		hist.LineStyle.Width = 0
		h.Add(hist)
		h.Legend.Add(series.name, hist)
	}
	for _, t := range []struct {
		x      float64
		colour color.Color
	}{{r.Thresholds.Pass, colourClean}, {r.Thresholds.Reject, colourDefective}} {
		line, err := plotter.NewLine(plotter.XYs{{X: t.x, Y: 0}, {X: t.x, Y: float64(max(len(clean), len(defective)))}})
		if err != nil {
			return written, err
		}
		line.Color, line.Width, line.Dashes = t.colour, vg.Points(2), []vg.Length{vg.Points(4), vg.Points(3)}
		h.Add(line)
	}
	h.Legend.Top = true
	if err := save(h, "histogram.png"); err != nil {
		return written, err
	}

	roc := plot.New()
	roc.Title.Text = fmt.Sprintf("Patch ROC (AUC %.3f)", float64(r.Patch.ROCAUC))
	roc.X.Label.Text, roc.Y.Label.Text = "false positive rate", "recall"
	roc.X.Min, roc.X.Max, roc.Y.Min, roc.Y.Max = 0, 1, 0, 1
	curve, err := plotter.NewLine(rocPoints(scores, truth))
	if err != nil {
		return written, err
	}
	curve.Color, curve.Width = colourDefective, vg.Points(2)
	roc.Add(curve, plotter.NewGrid())
	if err := save(roc, "roc.png"); err != nil {
		return written, err
	}

	sw := plot.New()
	sw.Title.Text = fmt.Sprintf("Strip outcomes as the pass threshold moves (reject fixed at %.2f)", r.Thresholds.Reject)
	sw.X.Label.Text, sw.Y.Label.Text = "pass threshold", "rate"
	sw.X.Min, sw.X.Max, sw.Y.Min, sw.Y.Max = 0, r.Thresholds.Reject, 0, 1
	var conf []float64
	var def []bool
	for _, s := range r.Strips {
		if s.Error == "" {
			conf, def = append(conf, s.Confidence), append(def, s.Defective)
		}
	}
	var missed, alarms, review plotter.XYs
	for p := 0; float64(p)/100 < r.Thresholds.Reject; p++ {
		o := OutcomeAt(conf, def, verdict.Thresholds{Pass: float64(p) / 100, Reject: r.Thresholds.Reject})
		x := float64(p) / 100
		missed = append(missed, plotter.XY{X: x, Y: o.MissedRate})
		alarms = append(alarms, plotter.XY{X: x, Y: o.FalseAlarmRate})
		review = append(review, plotter.XY{X: x, Y: o.ReviewRate})
	}
	for _, series := range []struct {
		xy     plotter.XYs
		colour color.Color
		name   string
	}{{missed, colourDefective, "missed (defective auto-passed)"}, {alarms, color.Black, "false alarms (clean auto-rejected)"}, {review, colourReview, "review rate"}} {
		l, err := plotter.NewLine(series.xy)
		if err != nil {
			return written, err
		}
		l.Color, l.Width = series.colour, vg.Points(2)
		sw.Add(l)
		sw.Legend.Add(series.name, l)
	}
	sw.Legend.Top = true
	sw.Add(plotter.NewGrid())
	if err := save(sw, "sweep.png"); err != nil {
		return written, err
	}
	return written, nil
}

// rocPoints is the ROC curve: one point per distinct score, from the
// highest threshold down.
func rocPoints(scores []float32, truth []bool) plotter.XYs {
	idx := sortedByScore(scores)
	pos, neg := 0, 0
	for _, t := range truth {
		if t {
			pos++
		} else {
			neg++
		}
	}
	pts := plotter.XYs{{X: 0, Y: 0}}
	if pos == 0 || neg == 0 {
		return append(pts, plotter.XY{X: 1, Y: 1})
	}
	tp, fp := 0, 0
	for i := len(idx) - 1; i >= 0; {
		j := i
		for j >= 0 && scores[idx[j]] == scores[idx[i]] {
			if truth[idx[j]] {
				tp++
			} else {
				fp++
			}
			j--
		}
		pts = append(pts, plotter.XY{X: float64(fp) / float64(neg), Y: float64(tp) / float64(pos)})
		i = j
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
	return pts
}

func withAlpha(c color.Color, a uint8) color.NRGBA {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}
