package learn

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"steelinspect/evaluate"
	"steelinspect/inference"
)

// fitHead learns the final head on every strip, and a head per defect
// class when the masks carry two classes or more with enough cells.
func fitHead(strips []featured, kind string, rep *Report) (cellScorer, []classHead, error) {
	head, n, pos, err := fitOn(strips, kind)
	if err != nil {
		return nil, nil, err
	}
	rep.TrainCells, rep.DefectCells = n, pos
	classes := fitClasses(strips)
	for _, c := range classes {
		rep.Classes = append(rep.Classes, c.name)
	}
	return head, classes, nil
}

// classHead tells one defect class from the others among defective cells.
type classHead struct {
	name string
	linear
}

// fitClasses fits one-against-the-rest heads over the defective cells of
// masked strips, labelled by the class covering most of each cell.
func fitClasses(strips []featured) []classHead {
	var cells []classCell
	for _, s := range strips {
		if s.Defective && s.CellsKnown() {
			cells = append(cells, classCells(s)...)
		}
	}
	return classHeads(cells, strips[0].grid.dim, minClassCells, cellL2)
}

// classHeads fits one-against-the-rest heads (ridge l2) over labelled
// defective samples of dim values, for the classes with at least least
// samples, when two or more have: nil otherwise.
func classHeads(samples []classCell, dim, least int, l2 float64) []classHead {
	count := map[int]int{}
	for _, c := range samples {
		count[c.class]++
	}
	var ids []int
	for id, n := range count {
		if n >= least {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return nil
	}
	slices.Sort(ids)
	var out []classHead
	for _, id := range ids {
		set := &cellSet{dim: dim}
		for _, c := range samples {
			set.add(c.f, c.class == id, 1)
		}
		h, err := fitLogistic(set, l2)
		if err != nil {
			continue
		}
		out = append(out, classHead{"class " + strconv.Itoa(id), h})
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// mostCovering is the class whose mask covers most of r (0 when none
// does).
func mostCovering(masks map[int]*evaluate.Mask, r image.Rectangle) int {
	best, bestN := 0, 0
	for class, m := range masks {
		if n := m.Count(r.Min.X, r.Min.Y, min(r.Max.X, m.Width), min(r.Max.Y, m.Height)); n > bestN {
			best, bestN = class, n
		}
	}
	return best
}

// classCell is a defective cell's feature and the class covering most of
// it.
type classCell struct {
	f     []float32
	class int
}

// classCells draws up to posPerStrip of a masked strip's defective cells,
// each with its class.
func classCells(s featured) []classCell {
	g := s.grid
	m := s.merged()
	var picked []classCell
	for r := range g.rows {
		for c := range g.cols {
			if cellLabel(m, g.cell, r, c) != 1 {
				continue
			}
			x0, y0 := c*g.cell, r*g.cell
			best := mostCovering(s.Masks, image.Rect(x0, y0, x0+g.cell, y0+g.cell))
			picked = append(picked, classCell{g.feature(r*g.cols + c), best})
		}
	}
	rng := rngFor(s.sha)
	rng.Shuffle(len(picked), func(a, b int) { picked[a], picked[b] = picked[b], picked[a] })
	return picked[:min(posPerStrip, len(picked))]
}

// buildManifest makes the station model's manifest on the backbone, with
// the head, its pooling and the mapping that puts the raw thresholds on
// the model's default ones. The bank is
// bank A of measureDistances, whose distances the head weighs.
func buildManifest(base *inference.Manifest, head cellScorer, classes []classHead, strips []featured, bank [][]float32, tp, tr float64, opts Options, rep *Report) (*inference.Manifest, [][]float32) {
	m := *base
	m.Name, m.File, m.Version = opts.Name, opts.Name+".onnx", "1.0.0"
	dim := strips[0].grid.dim
	h := head.cellHead(dim)
	h.Pool, h.TopK = rep.Pool, rep.TopK
	if bank == nil {
		// the head weighs no distance: a one-row bank keeps the search cheap
		bank = [][]float32{make([]float32, dim)}
	}
	rep.BankRows = len(bank)
	t := m.DefaultThresholds
	lp, lr := logit(t.Pass), logit(t.Reject)
	scale := (tr - tp) / (lr - lp)
	for _, c := range classes {
		h.Classes = append(h.Classes, c.name)
		h.ClassWeights = append(h.ClassWeights, c.W)
		h.ClassBias = append(h.ClassBias, c.B)
	}
	m.Anomaly = &inference.AnomalySpec{
		Bank: inference.BankSpec{File: opts.Name + ".bank", Rows: len(bank), Dim: dim, Bytes: inference.BankMemory(len(bank), dim)},
		// raw tp maps to the pass threshold, raw tr to the reject one
		Mapping: inference.ScoreMapping{Center: tp - scale*lp, Scale: scale},
		Taught: inference.TaughtOn{Folder: strings.Join(rep.Sources, ", "), Strips: rep.Used, Width: rep.Width, Height: rep.Height,
			Skipped: len(rep.Skipped)},
		Head: h,
	}
	m.Texture = rep.Texture
	return &m, bank
}

// cellHead writes the network as the manifest holds it.
func (m *mlp) cellHead(dim int) *inference.CellHead {
	h := &inference.CellHead{Weights: make([]float64, dim), Bias: m.B, HiddenBias: m.B1, Output: m.Out}
	for _, w := range m.W {
		if len(w) == dim { // no distance was measured: it weighs nothing
			w = append(w, 0)
		}
		h.Hidden = append(h.Hidden, w)
	}
	return h
}

// cellHead writes the logistic head as the manifest holds it.
func (l linear) cellHead(dim int) *inference.CellHead {
	h := &inference.CellHead{Weights: l.W[:dim], Bias: l.B}
	if len(l.W) > dim {
		h.DistanceWeight = l.W[dim]
	}
	return h
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// describe writes what the model learned from and measured, out of fold,
// into its provenance.
func describe(m *inference.Manifest, rep *Report) {
	unit := rep.Unit()
	metrics := map[string]any{
		"strips":                  rep.Used,
		"defective_strips":        rep.Defective,
		"defect_free_strips":      rep.Clean,
		"masked_strips":           rep.Masked,
		"folds":                   rep.Folds,
		"missed":                  rep.Missed,
		"clean_auto_rejected":     rep.FalseRejects,
		"review_share":            round4(rep.ReviewShare),
		"strip_auc":               metric(rep.StripAUC),
		"patch_auc":               metric(rep.PatchAUC),
		"train_" + unit:           rep.TrainCells,
		"train_defective_" + unit: rep.DefectCells,
		"learn_seconds":           round4(rep.Duration.Seconds()),
	}
	if rep.PatchAUCWhy != "" {
		metrics["patch_auc_why"] = rep.PatchAUCWhy
	}
	if rep.TooFew != "" {
		metrics["warning"] = rep.TooFew
	}
	var what string
	if m.WindowHead != nil {
		metrics["l2"], metrics["hard_negatives"] = rep.L2, rep.HardNegatives
		what = fmt.Sprintf("Station model learned on this line's labelled strips: the trunk of the bundled model %s "+
			"(frozen; trained on synthetic defects) gives each 256×256 window %d values, and a logistic head learned in Go "+
			"(ridge %g%s, chosen out of fold) scores them in place of the model's own head. Its familiarity is fitted on the "+
			"line's own windows; the bundled model's validated-domain check is left out.",
			rep.Base, len(m.WindowHead.Weights), rep.L2, hardWords(rep.HardNegatives))
	} else {
		pool := "its highest cell"
		if rep.Pool == inference.PoolTopK {
			pool = fmt.Sprintf("the mean of its %d highest cells", rep.TopK)
		}
		what = fmt.Sprintf("Station model learned on this line's labelled strips: the ImageNet MobileNetV2 backbone "+
			"(frozen, as teach uses it) gives each 16×16-pixel cell a feature; a logistic head learned in Go scores the cells; "+
			"a patch scores %s.", pool)
	}
	m.Provenance = inference.Provenance{
		Description: what,
		TrainedOn: fmt.Sprintf("%d labelled %d×%d strips (%d defective, %d of them with masks; %d defect-free) from %s; %d files left out",
			rep.Used, rep.Width, rep.Height, rep.Defective, rep.Masked, rep.Clean, strings.Join(rep.Sources, ", "), len(rep.Skipped)),
		Training: "steelinspect learn (no Python): " + HeadLine(m),
		Date:     time.Now().UTC().Format(time.RFC3339),
		Heldout: fmt.Sprintf("%d-fold out of fold: each strip judged by a head and thresholds fitted without its fold: "+
			"%d defective auto-passed, %d defect-free auto-rejected, %.0f%% to review", rep.Folds, rep.Missed, rep.FalseRejects, 100*rep.ReviewShare),
		Metrics: metrics,
	}
}

func hardWords(hard bool) string {
	if hard {
		return "; each defect-free strip's highest window weighed as much as all its windows"
	}
	return ""
}

// HeadLine describes a station model's head.
func HeadLine(m *inference.Manifest) string {
	if m.WindowHead != nil {
		return m.WindowHead.Describe()
	}
	return m.Anomaly.Head.Describe()
}

// metric is a figure for the manifest: nil when it could not be measured
// (JSON has no NaN).
func metric(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return round4(v)
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
