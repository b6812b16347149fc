package learn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/x448/float16"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/teach"
)

// Learning on windows: the bundled model's own trunk, trained on defects
// (synthetic ones), gives each 256×256 window of a strip 1,280 values
// (its features output, the values its own head reads), and a logistic
// head learned in Go on them scores the windows in place of the model's
// head. On a second real line (CR7) these features separate the line's
// defects far better than the ImageNet cells: out of fold, and on crops of
// pictures never learned, about a quarter of the crops to review at 1 %
// wrong, against 43 % (training/NOTEBOOK.md, "A lead for issue 28"). The
// station model keeps the bundled model's graph, so it scores a strip as
// fast as the bundled model; its familiarity is fitted on the line's own
// windows, and the bundled model's validated-domain check (synthetic
// strips against real steel) is left out: the line's strips are the domain.

// Features Options.Features chooses from.
const (
	// FeaturesWindows learns on the bundled model's window features.
	FeaturesWindows = "windows"
	// FeaturesCells learns on the ImageNet backbone's cell features with
	// a bank of good steel, as teach uses it.
	FeaturesCells = "cells"
)

// windowL2s are the ridge penalties a window head chooses from, out of
// fold: the labels of a small line (the 54 Severstal strips) need a far
// stronger penalty than those of a large one (CR7's 2,727 crops).
//
// Largest first: each fit starts from the head of the one before.
var windowL2s = []float64{3, 0.3, 3e-2, 3e-3, 3e-4}

// windowRule is one way of fitting a window head, chosen out of fold: its
// ridge penalty, and whether a second round weighs each defect-free
// strip's highest window as much as all its windows (the strip is decided
// by its worst window, so that is the one that must score low).
type windowRule struct {
	l2   float64
	hard bool
}

// windowRulesFor are the rules for strips of cols windows: with one window
// a strip, the second round would weigh every defect-free window alike, as
// the first does.
func windowRulesFor(cols int) []windowRule {
	var rules []windowRule
	for _, l2 := range windowL2s {
		rules = append(rules, windowRule{l2: l2})
		if cols > 1 {
			rules = append(rules, windowRule{l2: l2, hard: true})
		}
	}
	return rules
}

// Familiarity of a station model on windows: fitted on the windows of most
// of the line's strips, its limit placed on the others.
const (
	familiarityComponents = 32
	familiarityHeldFold   = 5 // strips of one fold in this many hold out
	familiarityShare      = 0.99
	familiarityMargin     = 1.05
	minClassWindows       = 10
	// maxTrainWindows bounds the rows a window head is fitted on, and
	// maxFamiliarityWindows those the familiarity is fitted on: time and
	// memory stay bounded up to maxStrips strips
	maxTrainWindows       = 30_000
	maxFamiliarityWindows = 6_000
)

// learnOnWindows is Learn on the bundled model's window features.
func learnOnWindows(ctx context.Context, opts Options, examples []Example, rep *Report, prog func(string, int, int), start time.Time) (*Result, error) {
	base, onnx, err := models.Default()
	if err != nil {
		return nil, err
	}
	e, err := inference.NewEngine(base, onnx, models.DefaultSource, opts.Engine)
	if err != nil {
		return nil, err
	}
	rep.Features, rep.Base = FeaturesWindows, base.Name+" "+base.Version
	strips, err := usableStrips(ctx, windowSource(e, newWindowCache(opts.cacheRoot(), base.SHA256)), examples, rep, prog)
	e.Close()
	if err != nil {
		return nil, err
	}
	rects := inference.TilePatches(rep.Width, rep.Height, base.Input.PatchSize, base.Input.Stride)
	oof, err := windowOutOfFold(ctx, strips, rects, windowRulesFor(strips[0].grid.cols), opts, rep,
		func(done, total int) { prog("Measuring out of fold", done, total) })
	if err != nil {
		return nil, err
	}
	best := chooseRule(&oof.oofScores, strips, opts.budget(), rep)
	rule := oof.rules[best]
	rep.L2, rep.HardNegatives = rule.l2, rule.hard
	prog("Learning the head on every strip", 0, 1)
	head, rows, err := windowSet(strips, rects).fitRule(rule)
	if err != nil {
		return nil, err
	}
	rep.TrainCells, rep.DefectCells = rows.n(), countTrue(rows.Y)
	classes := fitWindowClasses(strips, rects, rep.L2)
	for _, c := range classes {
		rep.Classes = append(rep.Classes, c.name)
	}
	prog("Fitting the line's familiarity", 0, 1)
	fam, err := fitWindowFamiliarity(strips, rep)
	if err != nil {
		return nil, err
	}
	tp, tr := thresholdsOn(oof.strip[best], defectiveOf(strips), opts.budget())
	m, famData, err := windowManifest(base, head, classes, fam, tp, tr, opts, rep)
	if err != nil {
		return nil, err
	}
	rep.Duration = time.Since(start)
	describe(m, rep)
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("learned model does not validate: %w", err)
	}
	return &Result{Result: teach.Result{Manifest: m, ONNX: onnx, Familiarity: famData}, Learned: *rep}, nil
}

// windowSource gives strips their window features from e, a whole-strip
// model with a features output, kept in cache.
func windowSource(e *inference.Engine, cache windowCache) gridSource {
	return gridSource{
		load: cache.load,
		compute: func(ctx context.Context, sha string, img image.Image) (*halfGrid, error) {
			feats, err := e.PatchFeatures(ctx, img)
			if err != nil {
				return nil, err
			}
			b := img.Bounds()
			g := &halfGrid{cols: len(feats), rows: 1, dim: e.FeatureDim(), width: b.Dx(), height: b.Dy()}
			g.bits = make([]uint16, 0, g.cols*g.dim)
			for _, f := range feats {
				for _, v := range f {
					g.bits = append(g.bits, float16.Fromfloat32(v).Bits())
				}
			}
			_ = cache.store(sha, g)
			return g, nil
		},
	}
}

// windowCacheMagic opens every window cache file: the strip's width and
// height, its windows and their values, then the values in half precision.
const windowCacheMagic = "SIWIN1\n"

// windowCache keeps strips' window features for one model, by image sha256.
type windowCache struct{ dir string }

func newWindowCache(root, modelSHA string) windowCache {
	if root == "" {
		return windowCache{}
	}
	return windowCache{dir: filepath.Join(root, "windows-"+modelSHA[:16])}
}

func (c windowCache) path(sha string) string { return filepath.Join(c.dir, sha[:2], sha+".w16") }

// load returns the cached windows of the image with this sha256, or nil.
func (c windowCache) load(sha string) *halfGrid {
	if c.dir == "" {
		return nil
	}
	return loadEntry(c.path(sha), decodeWindows)
}

// store keeps g; a cache that cannot be written only costs time.
func (c windowCache) store(sha string, g *halfGrid) error {
	if c.dir == "" {
		return nil
	}
	return storeEntry(c.path(sha), encodeWindows(g))
}

func encodeWindows(g *halfGrid) []byte {
	out := []byte(windowCacheMagic)
	for _, v := range []int{g.width, g.height, g.cols, g.dim} {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	for _, b := range g.bits {
		out = binary.LittleEndian.AppendUint16(out, b)
	}
	return out
}

func decodeWindows(data []byte) (*halfGrid, error) {
	h, body, err := cacheHeader(data, windowCacheMagic, "window cache")
	if err != nil {
		return nil, err
	}
	g := &halfGrid{width: int(h[0]), height: int(h[1]), cols: int(h[2]), rows: 1, dim: int(h[3])}
	if g.width < 1 || g.height < 1 || g.cols < 1 || g.cols > maxCacheCells || g.dim < 1 || g.dim > 1<<16 {
		return nil, errors.New("window cache file has an impossible size")
	}
	if len(body) != 2*g.cols*g.dim {
		return nil, fmt.Errorf("window cache file holds %d bytes, want %d", len(body), 2*g.cols*g.dim)
	}
	g.bits = make([]uint16, g.cols*g.dim)
	for i := range g.bits {
		g.bits[i] = binary.LittleEndian.Uint16(body[2*i:])
	}
	return g, nil
}

// windowLabel is a window's label from its strip's merged mask: 1
// defective (as many defect pixels as evaluation counts a defective patch
// by), 0 defect-free, -1 left out (a few defect pixels).
func windowLabel(m *evaluate.Mask, r image.Rectangle) int {
	if m == nil {
		return 0
	}
	switch n := m.Count(r.Min.X, r.Min.Y, r.Max.X, r.Max.Y); {
	case n == 0:
		return 0
	case n >= evaluate.MinDefectPixels:
		return 1
	}
	return -1
}

// labelledWindows is the rows a window head is fitted on, and the strips
// known defective only at strip level, whose highest window is taken as
// defective in a second round.
type labelledWindows struct {
	rows    *cellSet
	unknown []featured
	clean   []featured
}

// windowSet gathers the labelled windows of strips: every window of a
// defect-free strip, and the windows of a masked strip by windowLabel.
func windowSet(strips []featured, rects []image.Rectangle) *labelledWindows {
	set := &labelledWindows{rows: &cellSet{dim: strips[0].grid.dim}}
	for _, s := range strips {
		if !s.CellsKnown() {
			set.unknown = append(set.unknown, s)
			continue
		}
		if !s.Defective {
			set.clean = append(set.clean, s)
		}
		m := s.merged()
		for j, r := range rects[:min(len(rects), s.grid.cols)] {
			switch windowLabel(m, r) {
			case 0:
				set.rows.add(s.grid.feature(j), false, 1)
			case 1:
				set.rows.add(s.grid.feature(j), true, 1)
			}
		}
	}
	set.rows = capDefectFree(set.rows, maxTrainWindows)
	return set
}

// capDefectFree keeps every defective row of s and an even sample of its
// defect-free ones, at most limit rows in all: the kinds weigh alike
// whatever their counts, so the sample changes the fit little and bounds
// its time and memory (a row is 1,280 values, 15 KiB once standardised).
func capDefectFree(s *cellSet, limit int) *cellSet {
	pos := countTrue(s.Y)
	if s.n() <= limit || pos >= limit {
		return s
	}
	keep := limit - pos
	out := &cellSet{dim: s.dim}
	neg, seen := s.n()-pos, 0
	for i, y := range s.Y {
		if !y {
			// the seen-th defect-free row is taken when the even sample's
			// count steps up: keep of the neg in all
			seen++
			if seen*keep/neg == (seen-1)*keep/neg {
				continue
			}
		}
		out.add(s.X[i*s.dim:(i+1)*s.dim], y, s.W[i])
	}
	return out
}

// fit learns the head with ridge penalty l2: on the labelled windows,
// then, when strips known only at strip level are among them, again with
// each one's highest window as defective (or, with no masks at all, from
// every window of those strips against the defect-free ones). It returns
// the rows of its last round.
func (w *labelledWindows) fit(l2 float64, from *linear) (linear, *cellSet, error) {
	if len(w.unknown) == 0 {
		head, err := fitLogisticFrom(w.rows, l2, from)
		return head, w.rows, err
	}
	first := w.rows
	if !slices.Contains(first.Y, true) {
		first = cloneSet(w.rows)
		for _, s := range w.unknown {
			for j := range s.grid.cols {
				first.add(s.grid.feature(j), true, 1/float64(s.grid.cols))
			}
		}
	}
	head, err := fitLogistic(first, l2)
	if err != nil {
		return head, first, err
	}
	second := cloneSet(w.rows)
	for _, s := range w.unknown {
		second.add(s.grid.feature(highestWindow(head, s)), true, 1)
	}
	head, err = fitLogistic(second, l2)
	return head, second, err
}

// fitRule fits the head by rule: fit, then, for a hard rule, hardened.
func (w *labelledWindows) fitRule(rule windowRule) (linear, *cellSet, error) {
	head, rows, err := w.fit(rule.l2, nil)
	if err != nil || !rule.hard {
		return head, rows, err
	}
	return w.hardened(head, rows, rule.l2)
}

// hardened fits again on rows with each defect-free strip's highest window
// by head added, weighing as much as all the strip's windows.
func (w *labelledWindows) hardened(head linear, rows *cellSet, l2 float64) (linear, *cellSet, error) {
	hard := cloneSet(rows)
	for _, s := range w.clean {
		hard.add(s.grid.feature(highestWindow(head, s)), false, float64(s.grid.cols))
	}
	head, err := fitLogisticFrom(hard, l2, &head)
	return head, hard, err
}

func cloneSet(s *cellSet) *cellSet {
	return &cellSet{dim: s.dim, X: slices.Clone(s.X), Y: slices.Clone(s.Y), W: slices.Clone(s.W)}
}

// highestWindow is the window of s that h scores highest.
func highestWindow(h linear, s featured) int {
	logits := windowLogits(h, s)
	return slices.Index(logits, slices.Max(logits))
}

// windowLogits is the head's logit of each of a strip's windows.
func windowLogits(h linear, s featured) []float64 {
	out := make([]float64, s.grid.cols)
	for j := range out {
		out[j] = h.logit(s.grid.feature(j))
	}
	return out
}

// windowOOF is the out-of-fold scores of each rule.
type windowOOF struct {
	oofScores
	rules []windowRule
}

// windowOutOfFold scores every strip with heads learned without its fold,
// one per rule: a strip scores its highest window. A hard rule's first
// round is the plain rule's head of the same penalty.
func windowOutOfFold(ctx context.Context, strips []featured, rects []image.Rectangle, rules []windowRule, opts Options, rep *Report, prog func(done, total int)) (*windowOOF, error) {
	o := &windowOOF{oofScores: *newOOF(strips, len(rules), opts, rep), rules: rules}
	k := rep.Folds
	for f := range k {
		prog(f, k)
		set := windowSet(o.outside(strips, f), rects)
		var plain *linear
		var plainRows *cellSet
		for c, rule := range rules {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var head linear
			var err error
			if rule.hard {
				head, _, err = set.hardened(*plain, plainRows, rule.l2)
			} else {
				// from the head of the penalty before
				head, plainRows, err = set.fit(rule.l2, plain)
				plain = &head
			}
			if err != nil {
				return nil, fmt.Errorf("fold %d of %d: %w (the fold left too few labelled windows of one kind)", f+1, k, err)
			}
			o.score(c, f, head, strips, rects)
		}
	}
	prog(k, k)
	return o, nil
}

// score records rule c's scores of the strips of fold f by head.
func (o *windowOOF) score(c, f int, head linear, strips []featured, rects []image.Rectangle) {
	for i, s := range strips {
		if o.fold[i] != f {
			continue
		}
		logits := windowLogits(head, s)
		o.strip[c][i] = slices.Max(logits)
		if !s.CellsKnown() {
			continue
		}
		m := s.merged()
		for j, v := range logits {
			o.patch[c] = append(o.patch[c], float32(v))
			if c == 0 {
				o.truth = append(o.truth, windowLabel(m, rects[j]) == 1)
			}
		}
	}
}

// fitWindowClasses fits one-against-the-rest heads over the defective
// windows of masked strips, each labelled by the class with most pixels
// in it, when two classes or more have enough windows.
func fitWindowClasses(strips []featured, rects []image.Rectangle, l2 float64) []classHead {
	var wins []classCell
	for _, s := range strips {
		if !s.Defective || !s.CellsKnown() {
			continue
		}
		m := s.merged()
		for j, r := range rects[:min(len(rects), s.grid.cols)] {
			if windowLabel(m, r) == 1 {
				wins = append(wins, classCell{s.grid.feature(j), mostCovering(s.Masks, r)})
			}
		}
	}
	return classHeads(wins, strips[0].grid.dim, minClassWindows, l2)
}

// lineFamiliarity is the familiarity a station model on windows gets: the
// statistics of its line's windows and the limit placed on held-out
// strips.
type lineFamiliarity struct {
	stats           *inference.FamiliarityStats
	limit           float64
	fitted, limited string
}

// fitWindowFamiliarity fits the familiarity statistics on the windows of
// the strips outside one fold in familiarityHeldFold and places the limit
// on the strips of that fold: a strip of the line the model never saw is
// familiar; one unlike the line's strips goes to review. With too few
// strips to hold any out, the limit is placed on the fitted strips
// themselves, with a wider margin.
func fitWindowFamiliarity(strips []featured, rep *Report) (lineFamiliarity, error) {
	var fitOn, held []featured
	for _, s := range strips {
		if foldOf("familiarity\x00"+s.sha, familiarityHeldFold) == 0 {
			held = append(held, s)
		} else {
			fitOn = append(fitOn, s)
		}
	}
	margin, heldOut := familiarityMargin, true
	if len(held) < 3 || len(fitOn)*strips[0].grid.cols < 8 {
		fitOn, held, margin, heldOut = strips, strips, 1.5, false
	}
	var fit [][]float32
	for _, s := range fitOn {
		for j := range s.grid.cols {
			fit = append(fit, s.grid.feature(j))
		}
	}
	if len(fit) > maxFamiliarityWindows {
		// an even sample, in the strips' order
		sample := make([][]float32, maxFamiliarityWindows)
		for i := range sample {
			sample[i] = fit[i*len(fit)/maxFamiliarityWindows]
		}
		fit = sample
	}
	k := max(1, min(familiarityComponents, len(fit)/4, strips[0].grid.dim-1))
	stats, err := inference.FitFamiliarity(fit, k)
	if err != nil {
		return lineFamiliarity{}, err
	}
	scores := make([]float64, len(held))
	for i, s := range held {
		per := make([]float64, s.grid.cols)
		for j := range per {
			per[j] = stats.WindowScore(s.grid.feature(j), 1)
		}
		scores[i] = inference.StripScore(per)
	}
	limit, err := inference.FamiliarityLimit(scores, familiarityShare, margin)
	if err != nil {
		return lineFamiliarity{}, err
	}
	rep.FamiliarityLimit = limit
	fam := lineFamiliarity{stats: stats, limit: limit,
		fitted: fmt.Sprintf("%d windows of the strips learned on (%s)", len(fit), strings.Join(rep.Sources, ", ")),
		limited: fmt.Sprintf("%d strips of the same labels held out of the fit (score at the %.0fth percentile × %.2f)",
			len(held), 100*familiarityShare, margin),
	}
	if !heldOut {
		fam.limited = fmt.Sprintf("the %d strips fitted on, too few to hold any out (score at the %.0fth percentile × %.2f)",
			len(held), 100*familiarityShare, margin)
	}
	return fam, nil
}

// windowManifest makes the station model's manifest on the bundled model:
// its graph and preprocessing, the head in place of its own, the mapping
// that puts the raw thresholds on the default ones, the line's
// familiarity and texture, and no validated-domain check. It returns the
// familiarity file's bytes beside it.
func windowManifest(base *inference.Manifest, head linear, classes []classHead, fam lineFamiliarity, tp, tr float64, opts Options, rep *Report) (*inference.Manifest, []byte, error) {
	m := *base
	m.Name, m.File, m.Version = opts.Name, opts.Name+".onnx", "1.0.0"
	m.Output.Domain = ""
	t := m.DefaultThresholds
	lp, lr := logit(t.Pass), logit(t.Reject)
	scale := (tr - tp) / (lr - lp)
	h := &inference.WindowHead{
		CellHead: inference.CellHead{Weights: head.W, Bias: head.B, Pool: inference.PoolMax},
		Mapping:  inference.ScoreMapping{Center: tp - scale*lp, Scale: scale},
		LearnedOn: inference.TaughtOn{Folder: strings.Join(rep.Sources, ", "), Strips: rep.Used, Width: rep.Width, Height: rep.Height,
			Skipped: len(rep.Skipped)},
	}
	for _, c := range classes {
		h.Classes = append(h.Classes, c.name)
		h.ClassWeights = append(h.ClassWeights, c.W)
		h.ClassBias = append(h.ClassBias, c.B)
	}
	m.WindowHead = h
	data, err := fam.stats.Marshal()
	if err != nil {
		return nil, nil, err
	}
	m.Familiarity = &inference.FamiliaritySpec{File: opts.Name + ".familiarity.json", SHA256: inference.SHA256Hex(data),
		Limit: fam.limit, Method: base.Familiarity.Method, FittedOn: fam.fitted, LimitFittedOn: fam.limited}
	if err := m.AttachFamiliarity(data); err != nil {
		return nil, nil, err
	}
	m.Texture = rep.Texture
	return &m, data, nil
}
