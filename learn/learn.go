// Package learn makes a station model from labelled strips of the
// station's own line, on its own CPU, with no Python: the frozen ImageNet
// backbone that teach uses (models.AnomalyBackbone) gives one feature per
// 16×16-pixel cell, cached by image sha256; a logistic head learned in Go
// scores each cell from masks (Severstal layout), from strip-level labels
// (a folder sorted into PASS/ and REJECT/, or defective strips without
// masks) and from defect-free strips; a patch pools its cells' scores by
// the rule that does best out of fold; and the thresholds are placed on
// out-of-fold strip scores so that no defective strip would have been
// auto-passed, then with the least review. The figures it reports are
// measured the same way: each strip judged by a head and thresholds that
// never saw it.
package learn

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/teach"
	"steelinspect/verdict"
)

// Options say what to learn from and how.
type Options struct {
	// Labelled are folders of labelled strips (readLabelled's layouts).
	Labelled []string
	// Good is an optional folder of defect-free strips.
	Good string
	// Trail, when its DB is set, adds every strip a person decided in
	// the audit trail.
	Trail TrailSource
	// Name names the model (default "station-<first folder>").
	Name string
	// Folds is the number of out-of-fold splits (0: DefaultFolds).
	Folds int
	// Features is FeaturesWindows (the default: the bundled model's
	// window features) or FeaturesCells (the ImageNet backbone's cells).
	Features string
	// Head is HeadLinear (the default) or HeadMLP (cell features only).
	Head string
	// MissedShare and FalseRejectShare are the shares of defective strips
	// the thresholds may auto-pass and of defect-free strips they may
	// auto-reject, out of fold (0: none). Label noise on a large set (a
	// box drawn round steel that looks clean) may call for a little.
	MissedShare, FalseRejectShare float64
	// CacheDir keeps features between runs ("" for DefaultCacheDir; "-"
	// keeps none).
	CacheDir string
	// Engine tunes ONNX Runtime.
	Engine inference.EngineOptions
	// Progress, when set, is told how learning goes.
	Progress func(teach.Progress)
}

// Defaults and limits.
const (
	DefaultFolds = 5
	// TrustEach is how many strips of each kind the figures need before
	// they are worth trusting.
	TrustEach = 30
	// MinEach is the fewest strips of each kind learning accepts.
	MinEach = 2
	// a cell is defective when this share of its pixels is in a mask (a
	// line one pixel wide across it), and defect-free when none is; cells
	// between are left out. At a quarter, a third of the synthetic
	// generator's defective strips (thin scratches) gave no defective cell
	// at all, and the held-out review share was 64 % against 42 %.
	cellDefectShare = 1.0 / 16
	// cells drawn per strip for the head, so every strip weighs alike
	negPerStrip = 160
	posPerStrip = 320
	// a strip known defective only at strip level gives its highest cells
	milCells = 8
	// the hardest defect-free cells a strip adds in the second round
	hardCells = 16
	// maxTrainCells bounds the cells a head is fitted on (the per-strip
	// shares above shrink for large sets), and with it time and memory
	maxTrainCells = 60_000
	// a class head needs this many cells of its class
	minClassCells = 20
)

// maxStrips bounds the strips one run learns from, and with it the memory
// their features take (400 KiB a 1600×256 strip): past it, an even sample
// chosen by hash is used, and the report says so.
var maxStrips = 4000

// poolings are the patch rules learning chooses from.
var poolings = []struct {
	pool string
	k    int
}{{inference.PoolMax, 1}, {inference.PoolTopK, 2}, {inference.PoolTopK, 4}, {inference.PoolTopK, 8}, {inference.PoolTopK, 16}}

// StripScore is one strip's out-of-fold result.
type StripScore struct {
	Path      string
	Defective bool
	Score     float64 // pooled logit of its worst patch
	Decision  verdict.Decision
}

// Wrong says whether the strip's out-of-fold decision was a wrong
// automatic one: defective and passed, or defect-free and rejected.
func (s StripScore) Wrong() bool {
	return (s.Defective && s.Decision == verdict.Pass) || (!s.Defective && s.Decision == verdict.Reject)
}

// Report is what learning measured, out of fold.
type Report struct {
	Sources                  []string
	Found, Used              int
	Defective, Clean, Masked int
	Cached                   int
	Skipped                  []Skipped
	Width, Height            int
	Folds                    int
	// Features is what the head reads (FeaturesWindows or FeaturesCells),
	// and Base the model whose window features it reads.
	Features, Base string
	// Pool and TopK are a cell head's patch rule; L2 a window head's ridge
	// penalty and HardNegatives whether it weighs each defect-free strip's
	// highest window up, each chosen out of fold.
	Pool          string
	TopK          int
	L2            float64
	HardNegatives bool
	// FamiliarityLimit is a window model's familiarity limit, placed on
	// strips held out of the line's familiarity statistics.
	FamiliarityLimit        float64
	TrainCells, DefectCells int
	BankRows                int
	Classes                 []string
	// Out-of-fold outcome at the model's default thresholds.
	Missed, FalseRejects, Reviews int
	ReviewShare                   float64
	StripAUC, PatchAUC            float64 // NaN when not measurable
	PatchAUCWhy                   string
	// TooFew says when the labels are too few to trust the figures;
	// Capped when more strips were found than one run takes (maxStrips).
	TooFew string
	Capped string
	// Texture is the texture of the defect-free strips (nil when none
	// could be judged), written into the manifest: the model judges a
	// frame's steel texture against its line's.
	Texture  *inference.LineTexture
	Strips   []StripScore
	Duration time.Duration
}

// Result is a learned model, not yet written: Save it as teach's.
type Result struct {
	teach.Result
	Learned Report
}

// Learn reads the labelled folders, extracts (or reads cached) features,
// measures the head out of fold, and fits the model on every strip.
func Learn(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := CheckOptions(opts); err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	rep := Report{Sources: append(slices.Clone(opts.Labelled), nonEmpty(opts.Good)...)}
	prog := func(stage string, done, total int) {
		if opts.Progress != nil {
			opts.Progress(teach.Progress{Stage: stage, Done: done, Total: total, Elapsed: time.Since(start)})
		}
	}
	examples, err := readAll(opts, &rep)
	if err != nil {
		return nil, err
	}
	if opts.Features == FeaturesWindows {
		return learnOnWindows(ctx, opts, examples, &rep, prog, start)
	}
	rep.Features = FeaturesCells
	base, onnx := models.AnomalyBackbone()
	e, _, err := teach.OpenWithBank(base, onnx, [][]float32{make([]float32, models.AnomalyBackboneDim)},
		inference.ScoreMapping{Scale: 1}, opts.Engine)
	if err != nil {
		return nil, err
	}
	cache := newFeatureCache(opts.cacheRoot(), base.SHA256)
	strips, err := usableStrips(ctx, cellSource(e, cache), examples, &rep, prog)
	e.Close()
	if err != nil {
		return nil, err
	}
	bank, err := measureDistances(ctx, strips, opts, cache, func(done, total int) { prog("Measuring distances to good steel", done, total) })
	if err != nil {
		return nil, err
	}
	geo := geometry{cell: base.Input.Cell, patch: base.Input.PatchSize, stride: base.Input.Stride, w: rep.Width, h: rep.Height}

	oof, err := outOfFold(ctx, strips, geo, opts, &rep, func(done, total int) { prog("Measuring out of fold", done, total) })
	if err != nil {
		return nil, err
	}
	choosePooling(oof, strips, opts.budget(), &rep)
	prog("Learning the head on every strip", 0, 1)
	head, classes, err := fitHead(strips, opts.Head, &rep)
	if err != nil {
		return nil, err
	}
	tp, tr := thresholdsOn(oof.strip[poolIndex(rep.Pool, rep.TopK)], defectiveOf(strips), opts.budget())
	m, bank := buildManifest(base, head, classes, strips, bank, tp, tr, opts, &rep)
	rep.Duration = time.Since(start)
	describe(m, &rep)
	bankData := inference.EncodeBank(bank)
	m.Anomaly.Bank.SHA256 = inference.SHA256Hex(bankData)
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("learned model does not validate: %w", err)
	}
	return &Result{Result: teach.Result{Manifest: m, ONNX: onnx, Bank: bankData}, Learned: rep}, nil
}

// cacheRoot is the folder features are kept in, "" for none.
func (o Options) cacheRoot() string {
	if o.CacheDir == "-" {
		return ""
	}
	return o.CacheDir
}

// usableStrips gives the examples their features from src and keeps the
// strips learning can use: those of the commonest size, with steel
// texture beside the line's other good strips, of both kinds. What is left
// out, and how many came from the cache, goes into rep.
func usableStrips(ctx context.Context, src gridSource, examples []Example, rep *Report, prog func(string, int, int)) ([]featured, error) {
	strips, skipped, cached, err := extract(ctx, src, examples,
		func(done, total int) { prog("Reading the strips' features", done, total) })
	if err != nil {
		return nil, err
	}
	rep.Cached, rep.Skipped = cached, append(rep.Skipped, skipped...)
	strips = oneSize(strips, rep)
	if strips, err = measureLine(ctx, strips, rep, func(done, total int) { prog("Measuring the good strips' texture", done, total) }); err != nil {
		return nil, err
	}
	if err := countKinds(strips, rep); err != nil {
		return nil, err
	}
	return strips, nil
}

// Unit names what the head scored: "windows" or "cells".
func (r *Report) Unit() string {
	if r.Features == FeaturesWindows {
		return "windows"
	}
	return "cells"
}

func (o Options) budget() budget {
	b := budget{o.MissedShare, o.FalseRejectShare, cellMargin}
	if o.Features == FeaturesWindows {
		b.margin = 0
	}
	return b
}

// CheckOptions refuses options learning cannot use, before any work.
func CheckOptions(o Options) error {
	switch {
	case len(o.Labelled) == 0 && o.Trail.DB == "":
		return errors.New("nothing to learn from: give --labelled DIR or --from-trail")
	case o.Folds != 0 && (o.Folds < 2 || o.Folds > 20):
		return fmt.Errorf("folds %d must be 2..20", o.Folds)
	case !(o.MissedShare >= 0 && o.MissedShare <= 0.1) || !(o.FalseRejectShare >= 0 && o.FalseRejectShare <= 0.1):
		return fmt.Errorf("the shares of wrong automatic decisions allowed must be between 0 and 0.1 (10 %%)")
	case o.Name != "" && teach.SafeName(o.Name) != o.Name:
		return fmt.Errorf("model name %q: use letters, digits, '-', '_' and '.' only", o.Name)
	}
	return checkHead(o)
}

// checkHead refuses a head or features learning does not know, and a head
// the features cannot have.
func checkHead(o Options) error {
	switch {
	case o.Head != "" && o.Head != HeadLinear && o.Head != HeadMLP:
		return fmt.Errorf("head %q must be %s or %s", o.Head, HeadLinear, HeadMLP)
	case o.Features != "" && o.Features != FeaturesWindows && o.Features != FeaturesCells:
		return fmt.Errorf("features %q must be %s or %s", o.Features, FeaturesWindows, FeaturesCells)
	case o.Head == HeadMLP && o.Features != FeaturesCells:
		return fmt.Errorf("the %s head learns on cell features: add --features %s", HeadMLP, FeaturesCells)
	}
	return nil
}

func withDefaults(o Options) Options {
	if o.Folds == 0 {
		o.Folds = DefaultFolds
	}
	if o.Features == "" {
		o.Features = FeaturesWindows
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	if o.Name == "" {
		o.Name = NameFor(o)
	}
	return o
}

// NameFor is the default name of a model learned with o: after its first
// labelled folder, or station-trail.
func NameFor(o Options) string {
	if len(o.Labelled) > 0 {
		return DefaultName(o.Labelled[0])
	}
	return "station-trail"
}

// DefaultName names a model learned from folder.
func DefaultName(folder string) string {
	return "station-" + strings.TrimPrefix(teach.DefaultName(folder), "good-steel-")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// readAll reads every labelled folder and the good folder.
func readAll(opts Options, rep *Report) ([]Example, error) {
	var all []Example
	for _, dir := range opts.Labelled {
		xs, skipped, err := readLabelled(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, xs...)
		rep.Skipped = append(rep.Skipped, skipped...)
	}
	if opts.Trail.DB != "" {
		xs, skipped, counts, err := readTrail(context.Background(), opts.Trail)
		if err != nil {
			return nil, err
		}
		if len(opts.Labelled) == 0 && opts.Good == "" {
			if err := trailTooFew(counts); err != nil {
				return nil, err
			}
		}
		all = append(all, xs...)
		rep.Skipped = append(rep.Skipped, skipped...)
		rep.Sources = append(rep.Sources, "decisions in "+opts.Trail.DB)
	}
	if opts.Good != "" {
		if !isDir(opts.Good) {
			return nil, fmt.Errorf("good folder %s is not a folder", opts.Good)
		}
		xs, skipped := readFolder(opts.Good, false, opts.Good)
		all = append(all, xs...)
		rep.Skipped = append(rep.Skipped, skipped...)
	}
	// the same file given twice counts once
	seen := map[string]bool{}
	var out []Example
	for _, x := range all {
		if !seen[x.Path] {
			seen[x.Path] = true
			out = append(out, x)
		}
	}
	rep.Found = len(out)
	if len(out) > maxStrips {
		slices.SortFunc(out, func(a, b Example) int { return cmp.Compare(sampleKey(a.Path), sampleKey(b.Path)) })
		out = out[:maxStrips]
		rep.Capped = fmt.Sprintf("%d strips found; learning used %d of them, chosen by hash, to bound its memory", rep.Found, maxStrips)
	}
	return out, nil
}

// sampleKey orders strips for the sample maxStrips keeps.
func sampleKey(path string) uint64 {
	h := sha256.Sum256([]byte("sample\x00" + path))
	return binary.BigEndian.Uint64(h[:8])
}

// oneSize keeps the strips of the commonest size; the others are named.
func oneSize(strips []featured, rep *Report) []featured {
	count := map[image.Point]int{}
	for _, s := range strips {
		count[size(s)]++
	}
	var best image.Point
	for p, n := range count {
		if n > count[best] || (n == count[best] && (p.X > best.X || p.Y > best.Y)) {
			best = p
		}
	}
	var out []featured
	for _, s := range strips {
		if size(s) == best {
			out = append(out, s)
			continue
		}
		rep.Skipped = append(rep.Skipped, Skipped{s.Path, fmt.Sprintf("mixed strip sizes: this one is %d×%d, learning on the %d strips of %d×%d",
			size(s).X, size(s).Y, count[best], best.X, best.Y)})
	}
	rep.Width, rep.Height = best.X, best.Y
	return out
}

// size is a strip's size (on the cell grid, for cell features).
func size(s featured) image.Point { return image.Pt(s.grid.width, s.grid.height) }

// countKinds counts the strips of each kind and refuses labels of one
// kind only.
func countKinds(strips []featured, rep *Report) error {
	rep.Used = len(strips)
	for _, s := range strips {
		if s.Defective {
			rep.Defective++
		} else {
			rep.Clean++
		}
		if s.Defective && s.CellsKnown() {
			rep.Masked++
		}
	}
	if rep.Defective < MinEach || rep.Clean < MinEach {
		return fmt.Errorf("the labels hold %d defective and %d defect-free usable strips: learning needs both kinds, at least %d of each (about %d of each to trust the figures)",
			rep.Defective, rep.Clean, MinEach, TrustEach)
	}
	if rep.Defective < TrustEach || rep.Clean < TrustEach {
		rep.TooFew = fmt.Sprintf("too few labels to trust these figures: %d defective and %d defect-free strips; about %d of each are needed",
			rep.Defective, rep.Clean, TrustEach)
	}
	return nil
}

// geometry is how cells make patches on strips of one size.
type geometry struct{ cell, patch, stride, w, h int }

// patchCells returns each patch's rectangle and its cells' (row, column)
// ranges, as the engine pools them.
func (g geometry) patches() ([]image.Rectangle, [][4]int) {
	rects := inference.TilePatches(g.w, g.h, g.patch, g.stride)
	cells := make([][4]int, len(rects))
	for i, r := range rects {
		ceil := func(v int) int { return (v + g.cell - 1) / g.cell }
		cells[i] = [4]int{ceil(r.Min.Y), ceil(r.Max.Y), ceil(r.Min.X), ceil(r.Max.X)}
	}
	return rects, cells
}

// cellLabel is a cell's label from a strip's merged mask: 1 defective, 0
// defect-free, -1 left out.
func cellLabel(m *evaluate.Mask, cell, r, c int) int {
	if m == nil {
		return 0
	}
	x0, y0 := c*cell, r*cell
	x1, y1 := min(x0+cell, m.Width), min(y0+cell, m.Height)
	if x1 <= x0 || y1 <= y0 {
		return -1
	}
	n := m.Count(x0, y0, x1, y1)
	switch {
	case n == 0:
		return 0
	case float64(n) >= cellDefectShare*float64((x1-x0)*(y1-y0)):
		return 1
	}
	return -1
}

// rngFor is a generator seeded by a strip's hash: the same strips always
// give the same cells.
func rngFor(sha string) *rand.Rand {
	h := sha256.Sum256([]byte(sha))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])))
}

// cellsOf adds a strip's labelled cells to set: a sample of its
// defect-free and defective cells when its masks are known. With a head
// from an earlier round, a strip adds its hardest cells too: a defect-free
// one its highest-scoring defect-free cells (a clean strip's score is its
// worst patch), a strip known defective only at strip level its highest
// cells as defective.
func cellsOf(s featured, set *cellSet, prev *linear, q quota) {
	g := s.grid
	rng := rngFor(s.sha)
	var hardNeg []int
	if s.CellsKnown() {
		m := s.merged()
		var neg, pos []int
		for r := range g.rows {
			for c := range g.cols {
				switch cellLabel(m, g.cell, r, c) {
				case 0:
					neg = append(neg, r*g.cols+c)
				case 1:
					pos = append(pos, r*g.cols+c)
				}
			}
		}
		hardNeg = slices.Clone(neg)
		for _, pick := range []struct {
			idx []int
			n   int
			y   bool
		}{{neg, q.neg, false}, {pos, q.pos, true}} {
			rng.Shuffle(len(pick.idx), func(a, b int) { pick.idx[a], pick.idx[b] = pick.idx[b], pick.idx[a] })
			for _, i := range pick.idx[:min(pick.n, len(pick.idx))] {
				set.add(s.row(i), pick.y, 1)
			}
		}
	}
	if prev == nil {
		return
	}
	feature := s.row
	if s.CellsKnown() {
		for _, i := range highest(hardNeg, feature, prev, q.hard) {
			set.add(feature(i), false, 1)
		}
		return
	}
	all := make([]int, g.cells())
	for i := range all {
		all[i] = i
	}
	for _, i := range highest(all, feature, prev, milCells) {
		set.add(feature(i), true, float64(q.pos)/milCells/4)
	}
}

// quota is how many cells of each kind one strip gives the head.
type quota struct{ neg, pos, hard int }

// quotaFor shares maxTrainCells among n strips.
func quotaFor(n int) quota {
	scale := min(1, float64(maxTrainCells)/float64(n*(negPerStrip+hardCells+posPerStrip/4)))
	share := func(v, least int) int { return max(least, int(math.Round(float64(v)*scale))) }
	return quota{neg: share(negPerStrip, 8), pos: share(posPerStrip, 16), hard: share(hardCells, 4)}
}

// highest returns the n cells of idx that head scores highest.
func highest(idx []int, feature func(int) []float32, head *linear, n int) []int {
	score := make(map[int]float64, len(idx))
	for _, i := range idx {
		score[i] = head.logit(feature(i))
	}
	sorted := slices.Clone(idx)
	slices.SortFunc(sorted, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	return sorted[:min(n, len(sorted))]
}

// fitOn learns a head on strips: cells with known labels first, then, when
// strips known only at strip level are among them, a second round with
// their highest cells as defective.
func fitOn(strips []featured, kind string) (cellScorer, int, int, error) {
	dim := strips[0].rowDim()
	set := &cellSet{dim: dim}
	q := quotaFor(len(strips))
	for _, s := range strips {
		cellsOf(s, set, nil, q)
	}
	if !slices.Contains(set.Y, true) {
		// no masks at all: start from whole defective strips against clean ones
		for _, s := range strips {
			if s.Defective && !s.CellsKnown() {
				rng := rngFor(s.sha)
				for range q.neg {
					set.add(s.row(rng.IntN(s.grid.cells())), true, 1)
				}
			}
		}
	}
	head, err := fitLogistic(set, cellL2)
	if err != nil {
		return head, set.n(), countTrue(set.Y), err
	}
	round2 := &cellSet{dim: dim}
	for _, s := range strips {
		cellsOf(s, round2, &head, q)
	}
	if kind == HeadMLP {
		m, err := fitMLP(round2)
		return m, round2.n(), countTrue(round2.Y), err
	}
	head, err = fitLogistic(round2, cellL2)
	return head, round2.n(), countTrue(round2.Y), err
}

// cellScorer is a head as learning uses it: a cell's logit from its row.
type cellScorer interface {
	logit(row []float32) float64
	// cellHead is the head as the manifest holds it, for features of dim
	// values.
	cellHead(dim int) *inference.CellHead
}

// Heads Options.Head chooses from.
const (
	HeadLinear = "linear"
	HeadMLP    = "mlp"
)

func countTrue(v []bool) int {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return n
}

// foldOf assigns a strip to a fold by its hash: reruns agree.
func foldOf(sha string, k int) int {
	h := sha256.Sum256([]byte("fold\x00" + sha))
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(k))
}

// oofScores holds every strip's out-of-fold scores, per pooling rule.
type oofScores struct {
	strip [][]float64 // [pooling][strip]
	patch [][]float32 // [pooling][patch of a masked or clean strip]
	truth []bool      // each such patch's label
	fold  []int
}

// newOOF makes room for the out-of-fold scores of rules rules and puts
// each strip in one of k folds by its hash: k is opts.Folds, at most the
// strips of either kind and at least 2, and goes into rep.Folds.
func newOOF(strips []featured, rules int, opts Options, rep *Report) *oofScores {
	k := max(min(opts.Folds, rep.Defective, rep.Clean), 2)
	rep.Folds = k
	o := &oofScores{strip: make([][]float64, rules), patch: make([][]float32, rules), fold: make([]int, len(strips))}
	for p := range o.strip {
		o.strip[p] = make([]float64, len(strips))
	}
	for i, s := range strips {
		o.fold[i] = foldOf(s.sha, k)
	}
	return o
}

// outside is the strips outside fold f: those a fold's head learns on.
func (o *oofScores) outside(strips []featured, f int) []featured {
	var train []featured
	for i, s := range strips {
		if o.fold[i] != f {
			train = append(train, s)
		}
	}
	return train
}

// outOfFold scores every strip with a head learned without its fold.
func outOfFold(ctx context.Context, strips []featured, geo geometry, opts Options, rep *Report, prog func(done, total int)) (*oofScores, error) {
	o := newOOF(strips, len(poolings), opts, rep)
	k := rep.Folds
	rects, pcells := geo.patches()
	for f := range k {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prog(f, k)
		head, _, _, err := fitOn(o.outside(strips, f), opts.Head)
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w (the fold left too few labelled cells of one kind)", f+1, k, err)
		}
		for i, s := range strips {
			if o.fold[i] != f {
				continue
			}
			logits := cellLogits(head, s)
			m := s.merged()
			for p, pl := range poolings {
				worst := math.Inf(-1)
				for j := range rects {
					v := float64(poolPatch(logits, s.grid.cols, pcells[j], pl.pool, pl.k))
					worst = math.Max(worst, v)
					if s.CellsKnown() {
						o.patch[p] = append(o.patch[p], float32(v))
						if p == 0 {
							o.truth = append(o.truth, m != nil && m.Count(rects[j].Min.X, rects[j].Min.Y, rects[j].Max.X, rects[j].Max.Y) >= evaluate.MinDefectPixels)
						}
					}
				}
				o.strip[p][i] = worst
			}
		}
	}
	prog(k, k)
	return o, nil
}

func cellLogits(h cellScorer, s featured) []float32 {
	out := make([]float32, s.grid.cells())
	for i := range out {
		out[i] = float32(h.logit(s.row(i)))
	}
	return out
}

func poolPatch(logits []float32, cols int, rc [4]int, pool string, k int) float32 {
	vals := make([]float32, 0, (rc[1]-rc[0])*(rc[3]-rc[2]))
	for r := rc[0]; r < rc[1]; r++ {
		vals = append(vals, logits[r*cols+rc[2]:r*cols+rc[3]]...)
	}
	return inference.PoolCells(pool, k, vals)
}

func defectiveOf(strips []featured) []bool {
	out := make([]bool, len(strips))
	for i, s := range strips {
		out[i] = s.Defective
	}
	return out
}

func poolIndex(pool string, k int) int {
	for i, p := range poolings {
		if p.pool == pool && (p.pool == inference.PoolMax || p.k == k) {
			return i
		}
	}
	return 0
}

// cellMargin is a cell head's thresholds' margin beyond the scores they
// are placed on, as a share of the scores' spread. A window head's
// thresholds have none: on issue 28's synthetic sets a margin of 5 % sent
// 40 % of the held-out strips to review against 22 % without, and saved
// no strip from a wrong decision there or on CR7's held-out crops.
const cellMargin = 0.05

// minBand is the narrowest review band, as a share of the scores' spread:
// the thresholds never meet.
const minBand = 0.01

// budget is how many wrong automatic decisions the thresholds may allow,
// as shares of the defective and of the defect-free strips (0 and 0 by
// default: no defective strip auto-passed, no clean one auto-rejected).
//
// margin is the thresholds' margin beyond the scores they are placed on,
// as a share of the scores' spread.
type budget struct{ missed, falseRejects, margin float64 }

// thresholdsOn places the raw pass and reject thresholds on strip scores:
// the pass threshold just under the lowest defective strip beyond the
// budget's misses, the reject threshold just over the highest defect-free
// one beyond its false rejects, each with the budget's margin (a share of
// the scores' spread), and never closer than that margin, or minBand, to
// each other.
func thresholdsOn(scores []float64, defective []bool, b budget) (pass, reject float64) {
	var def, clean []float64
	for i, s := range scores {
		if defective[i] {
			def = append(def, s)
		} else {
			clean = append(clean, s)
		}
	}
	slices.Sort(def)
	slices.Sort(clean)
	slices.Reverse(clean)
	lowDef, highClean := math.Inf(1), math.Inf(-1)
	if len(def) > 0 {
		lowDef = def[min(len(def)-1, int(b.missed*float64(len(def))))]
	}
	if len(clean) > 0 {
		highClean = clean[min(len(clean)-1, int(b.falseRejects*float64(len(clean))))]
	}
	sorted := slices.Sorted(slices.Values(scores))
	spread := quantile(sorted, 0.95) - quantile(sorted, 0.05)
	if !(spread > 0) {
		spread = 1
	}
	margin := b.margin * spread
	pass = lowDef - margin
	reject = math.Max(highClean+margin, pass+math.Max(margin, minBand*spread))
	return pass, reject
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// decide is a raw score's decision under raw thresholds.
func decide(s, pass, reject float64) verdict.Decision {
	switch {
	case s < pass:
		return verdict.Pass
	case s > reject:
		return verdict.Reject
	}
	return verdict.Review
}

// crossValidated judges each fold's strips by thresholds placed on the
// other folds' scores: the honest outcome of placing thresholds this way.
func crossValidated(scores []float64, defective []bool, fold []int, k int, b budget) (missed, falseRejects, reviews int, decisions []verdict.Decision) {
	decisions = make([]verdict.Decision, len(scores))
	for f := range k {
		var s []float64
		var d []bool
		for i := range scores {
			if fold[i] != f {
				s, d = append(s, scores[i]), append(d, defective[i])
			}
		}
		if !slices.Contains(d, true) || slices.Index(d, false) < 0 {
			s, d = scores, defective // a fold holding every strip of a kind: use all
		}
		tp, tr := thresholdsOn(s, d, b)
		for i := range scores {
			if fold[i] == f {
				decisions[i] = decide(scores[i], tp, tr)
			}
		}
	}
	for i, dec := range decisions {
		switch {
		case defective[i] && dec == verdict.Pass:
			missed++
		case !defective[i] && dec == verdict.Reject:
			falseRejects++
		case dec == verdict.Review:
			reviews++
		}
	}
	return missed, falseRejects, reviews, decisions
}

// choosePooling picks the patch rule (chooseRule) and writes it and its
// figures into rep.
func choosePooling(o *oofScores, strips []featured, b budget, rep *Report) {
	best := chooseRule(o, strips, b, rep)
	rep.Pool, rep.TopK = poolings[best].pool, poolings[best].k
	if rep.Pool == inference.PoolMax {
		rep.TopK = 0
	}
}

// chooseRule picks, among the candidate rules whose out-of-fold scores o
// holds, the one with the fewest misses, then false rejects, then reviews
// (cross-validated), then the best strip AUC; it writes its figures into
// rep and returns its index.
func chooseRule(o *oofScores, strips []featured, b budget, rep *Report) int {
	defective := defectiveOf(strips)
	truth := make([]bool, len(defective))
	copy(truth, defective)
	// with too few strips of a kind, their decisions out of fold say
	// little: the rule is then chosen by its patches, which are many
	byPatches := rep.TooFew != "" && patchesMeasurable(o.truth)
	best, bestCost, bestAUC := 0, math.Inf(1), -1.0
	for p := range o.strip {
		missed, fr, rv, _ := crossValidated(o.strip[p], defective, o.fold, rep.Folds, b)
		cost := 100*float64(missed) + 30*float64(fr) + float64(rv)
		auc := evaluate.ROCAUC(toF32(o.strip[p]), truth)
		if byPatches {
			cost, auc = -evaluate.ROCAUC(o.patch[p], o.truth), 0
		}
		if cost < bestCost || (cost == bestCost && auc > bestAUC) {
			best, bestCost, bestAUC = p, cost, auc
		}
	}
	var decisions []verdict.Decision
	rep.Missed, rep.FalseRejects, rep.Reviews, decisions = crossValidated(o.strip[best], defective, o.fold, rep.Folds, b)
	rep.ReviewShare = float64(rep.Reviews) / float64(len(strips))
	rep.StripAUC = evaluate.ROCAUC(toF32(o.strip[best]), truth)
	rep.PatchAUC = math.NaN()
	switch n := countTrue(o.truth); {
	case len(o.truth) == 0:
		rep.PatchAUCWhy = "no strip with masks or defect-free strip to measure patches on"
	case n == 0 || n == len(o.truth):
		rep.PatchAUCWhy = fmt.Sprintf("one class only among the patches (%d defective of %d)", n, len(o.truth))
	default:
		rep.PatchAUC = evaluate.ROCAUC(o.patch[best], o.truth)
	}
	rep.Strips = make([]StripScore, len(strips))
	for i, s := range strips {
		rep.Strips[i] = StripScore{Path: s.Path, Defective: s.Defective, Score: o.strip[best][i], Decision: decisions[i]}
	}
	return best
}

// patchesMeasurable says whether the out-of-fold patches hold both kinds.
func patchesMeasurable(truth []bool) bool {
	n := countTrue(truth)
	return n > 0 && n < len(truth)
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
