package inference

import (
	"fmt"
	"math"
	"slices"
)

// A station model (package learn) is an anomaly model whose backbone's
// cell features also feed a head learned from labelled strips of the
// station's own line: each cell's logit is a weighted sum of its feature,
// a patch pools its cells' logits (PoolMax, or the mean of its TopK
// highest), and the anomaly mapping turns the pooled logit into the
// patch's probability. The same backbone run gives the features and the
// distance to the good-steel bank, so a learned model costs what a taught
// one costs.

// Pooling rules of CellHead.Pool.
const (
	PoolMax  = "max"
	PoolTopK = "top-k-mean"
)

// maxTopK bounds CellHead.TopK: a patch of 256 px has 256 cells of 16 px.
const maxTopK = 256

// CellHead is the learned part of a station model.
type CellHead struct {
	// Weights has one weight per feature value; a cell's logit is
	// Weights·feature + Bias.
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
	// DistanceWeight weighs the cell's distance to the model's good-steel
	// bank, from the same backbone run, into its logit.
	DistanceWeight float64 `json:"distance_weight,omitempty"`
	// Hidden, when present, makes the head a small network instead:
	// unit j is relu(Hidden[j]·[feature, distance] + HiddenBias[j]), and
	// the logit is Output·units + Bias (Weights and DistanceWeight are
	// then unused).
	Hidden     [][]float64 `json:"hidden,omitempty"`
	HiddenBias []float64   `json:"hidden_bias,omitempty"`
	Output     []float64   `json:"output,omitempty"`
	// Pool says how a patch's cells make its score; TopK is k for
	// PoolTopK.
	Pool string `json:"pool"`
	TopK int    `json:"top_k,omitempty"`
	// Classes names the defect classes the labels carried, and
	// ClassWeights holds, for each, a weight vector and bias over the
	// same features (its most likely class is the one whose logit is
	// highest): empty when the labels carried none.
	Classes      []string    `json:"classes,omitempty"`
	ClassWeights [][]float64 `json:"class_weights,omitempty"`
	ClassBias    []float64   `json:"class_bias,omitempty"`
}

// validate adds the problems of a head to bad, naming it field in the
// manifest.
func (h *CellHead) validate(field string, dim int, bad problem) {
	finite := func(v []float64) bool {
		return !slices.ContainsFunc(v, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
	}
	if len(h.Hidden) > 0 {
		h.validateHidden(field, dim, bad, finite)
	} else if len(h.Weights) != dim {
		bad("%s has %d weights, the bank's features have %d values", field, len(h.Weights), dim)
	}
	if !finite(h.Weights) || !finite([]float64{h.Bias, h.DistanceWeight}) {
		bad("%s's weights and bias must be finite", field)
	}
	switch h.Pool {
	case PoolMax:
	case PoolTopK:
		if h.TopK < 1 || h.TopK > maxTopK {
			bad("%s.top_k %d must be 1..%d", field, h.TopK, maxTopK)
		}
	default:
		bad("%s.pool %q must be %s or %s", field, h.Pool, PoolMax, PoolTopK)
	}
	if len(h.ClassWeights) != len(h.Classes) || len(h.ClassBias) != len(h.Classes) {
		bad("%s names %d classes with %d weight vectors and %d biases", field, len(h.Classes), len(h.ClassWeights), len(h.ClassBias))
		return
	}
	for i, w := range h.ClassWeights {
		if len(w) != dim || !finite(w) {
			bad("%s.class_weights[%d] must hold %d finite values", field, i, dim)
		}
	}
}

// maxHidden bounds a head's hidden units, so a manifest cannot make the
// engine's per-cell work unbounded.
const maxHidden = 256

func (h *CellHead) validateHidden(field string, dim int, bad problem, finite func([]float64) bool) {
	if len(h.Hidden) > maxHidden || len(h.HiddenBias) != len(h.Hidden) || len(h.Output) != len(h.Hidden) {
		bad("%s has %d hidden units (at most %d) with %d biases and %d output weights", field,
			len(h.Hidden), maxHidden, len(h.HiddenBias), len(h.Output))
		return
	}
	for j, w := range h.Hidden {
		if len(w) != dim+1 || !finite(w) {
			bad("%s.hidden[%d] must hold %d finite values (the feature and the distance)", field, j, dim+1)
			return
		}
	}
	if !finite(h.HiddenBias) || !finite(h.Output) {
		bad("%s's hidden biases and output weights must be finite", field)
	}
}

// cellLogits writes into out the head's logit of each of the band's
// rows×cols cells, from feats (D planes of rows×cols values) and dist
// (each cell's distance to the bank).
func (h *CellHead) cellLogits(feats, dist []float32, plane int, out, scratch []float32) {
	if len(h.Hidden) > 0 {
		h.hiddenLogits(feats, dist, plane, out, scratch)
		return
	}
	for p := range plane {
		s := h.Bias + h.DistanceWeight*float64(dist[p])
		for d, w := range h.Weights {
			s += w * float64(feats[d*plane+p])
		}
		out[p] = float32(s)
	}
}

// hiddenLogits is cellLogits for a head with a hidden layer: each unit is
// summed plane by plane, so the inner loop runs over contiguous cells.
func (h *CellHead) hiddenLogits(feats, dist []float32, plane int, out, acc []float32) {
	acc = acc[:plane]
	for p := range out[:plane] {
		out[p] = float32(h.Bias)
	}
	for j, w := range h.Hidden {
		b := float32(h.HiddenBias[j])
		for p := range acc {
			acc[p] = b
		}
		dim := len(w) - 1
		for d := range dim {
			wd := float32(w[d])
			col := feats[d*plane : (d+1)*plane]
			for p, v := range col {
				acc[p] += wd * v
			}
		}
		wdist, o := float32(w[dim]), float32(h.Output[j])
		for p, a := range acc {
			if a += wdist * dist[p]; a > 0 {
				out[p] += o * a
			}
		}
	}
}

// poolPatch pools a patch's cell logits (the slice is reordered).
func (h *CellHead) poolPatch(cells []float32) float32 {
	if h.Pool == PoolMax || h.TopK <= 1 {
		return slices.Max(cells)
	}
	k := min(h.TopK, len(cells))
	slices.SortFunc(cells, func(a, b float32) int { return cmpDesc(a, b) })
	var s float64
	for _, v := range cells[:k] {
		s += float64(v)
	}
	return float32(s / float64(k))
}

func cmpDesc(a, b float32) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// PoolCells is how a head with pool and k turns a patch's cell logits
// into its score, for learning to choose the rule on held-out strips.
// cells may be reordered.
func PoolCells(pool string, k int, cells []float32) float32 {
	h := CellHead{Pool: pool, TopK: k}
	return h.poolPatch(cells)
}

// classOf is the most likely class of a cell feature (as a column of
// feats), "" without classes.
func (h *CellHead) classOf(feats []float32, plane, p int) string {
	best, bestLogit := "", math.Inf(-1)
	for c, w := range h.ClassWeights {
		s := h.ClassBias[c]
		for d, wd := range w {
			s += wd * float64(feats[d*plane+p])
		}
		if s > bestLogit {
			best, bestLogit = h.Classes[c], s
		}
	}
	return best
}

// IsLearned reports a station model: an anomaly model with a cell head
// learned from labels, or a whole-strip classifier whose windows a head
// learned from labels scores.
func (m *Manifest) IsLearned() bool {
	return (m.Anomaly != nil && m.Anomaly.Head != nil) || m.WindowHead != nil
}

// LearnedOn says what a taught or learned model was taught or learned on,
// nil for a model made elsewhere.
func (m *Manifest) LearnedOn() *TaughtOn {
	switch {
	case m.WindowHead != nil:
		return &m.WindowHead.LearnedOn
	case m.Anomaly != nil:
		return &m.Anomaly.Taught
	}
	return nil
}

// WindowHead makes a whole-strip classifier a station model (package
// learn): the window features it computes for familiarity
// (output.features) are scored by a logistic head learned from labelled
// strips of the station's own line, in place of the model's own head, and
// the mapping puts the head's logit on the probability scale of the
// thresholds. The backbone run is the model's own, so a station model
// scores a strip as fast as the model it was learned on.
type WindowHead struct {
	// CellHead holds the weights over one window's features (its Pool is
	// PoolMax: a patch is one window); Hidden and DistanceWeight are unused.
	CellHead
	Mapping ScoreMapping `json:"mapping"`
	// LearnedOn says what the head was learned on.
	LearnedOn TaughtOn `json:"learned_on"`
}

// validateWindowHead adds the problems of a window head to bad.
func (m *Manifest) validateWindowHead(bad problem) {
	h := m.WindowHead
	if h == nil {
		return
	}
	if m.IsAnomaly() || m.Variant != VariantWholeStrip || m.Output.Features == "" {
		bad("window_head needs a whole-strip classifier with output.features")
	}
	if len(h.Hidden) > 0 || h.DistanceWeight != 0 {
		bad("window_head is a logistic head: no hidden units and no distance weight")
	}
	if len(h.Weights) == 0 {
		bad("window_head has no weights")
	}
	h.CellHead.validate("window_head", len(h.Weights), bad)
	h.Mapping.validate("window_head.mapping", bad)
}

// windowLogit is the head's logit of one window whose Dim feature values
// lie stride apart in feats.
func (h *WindowHead) windowLogit(feats []float32, stride int) float64 {
	s := h.Bias
	for d, w := range h.Weights {
		s += w * float64(feats[d*stride])
	}
	return s
}

// Describe is a short line for logs and reports.
func (h *CellHead) Describe() string {
	what := fmt.Sprintf("cell head over %d features", len(h.Weights))
	if len(h.Hidden) > 0 {
		what = fmt.Sprintf("cell network of %d hidden units over %d features and the distance", len(h.Hidden), len(h.Weights))
	}
	if h.Pool == PoolTopK {
		return fmt.Sprintf("%s, patch = mean of its %d highest cells", what, h.TopK)
	}
	return what + ", patch = its highest cell"
}

// Describe is a short line for logs and reports.
func (h *WindowHead) Describe() string {
	return fmt.Sprintf("window head over the model's %d window features, patch = its window", len(h.Weights))
}
