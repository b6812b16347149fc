// Package teach makes an anomaly model from defect-free strips of one
// line, on the station's CPU, with no labels, no Python and no network
// (after PatchCore): the bundled backbone (models.AnomalyBackbone) gives
// one feature per 16×16-pixel cell; the cells of the taught strips, cut
// down by greedy coreset selection, form a memory bank; a cell's anomaly is
// its distance to the nearest bank feature, a patch's the largest over its
// cells. The held-out good strips fix how distances map onto the defect
// probability scale, so that thresholds, calibration and reports treat the
// model like any classifier.
//
// Teach measures and returns a Result; Save writes it (model, bank,
// manifest) so that an interrupted teach leaves no half-written model.
package teach

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/models"
	"steelinspect/verdict"
)

// MinGoodStrips is the fewest usable strips teaching accepts.
const MinGoodStrips = 30

// minHeldOut is the fewest held-out strips the score mapping is fitted on.
const minHeldOut = 5

// Defaults of Options.
const (
	DefaultHoldOut  = 0.2
	DefaultBankRows = 4096
	// DefaultPoolCells bounds the cells collected before the coreset is
	// chosen (each strip gives an even share), and with it teaching's memory.
	DefaultPoolCells = 120_000
)

// Options say what to teach on and how.
type Options struct {
	// Good is the folder of defect-free strips, searched recursively.
	Good string
	// Name names the model; empty means "good-steel-<folder>".
	Name string
	// HoldOut is the share of strips kept aside to measure the model on
	// and fit its score mapping (0 means DefaultHoldOut).
	HoldOut float64
	// BankRows is the memory bank's size (0 means DefaultBankRows).
	BankRows int
	// PoolCells bounds the cells the bank is chosen from (0: the default).
	PoolCells int
	// Engine tunes ONNX Runtime.
	Engine inference.EngineOptions
	// Progress, when set, is told how teaching goes.
	Progress func(Progress)
}

// Progress is one step of teaching.
type Progress struct {
	Stage   string // what is being done, for people
	Done    int
	Total   int
	Elapsed time.Duration
	// Left estimates the time to the end of teaching (0 while unknown).
	Left time.Duration
}

// Skipped is a file left out of teaching and why.
type Skipped struct {
	Path   string
	Reason string
}

// StripScore is one held-out strip's result.
type StripScore struct {
	Path        string
	Probability float32 // the strip's largest patch probability
	Decision    verdict.Decision
}

// Report is what teaching measured.
type Report struct {
	Folder        string
	Found         int
	Width, Height int
	Taught        int
	HeldOut       []StripScore
	Unreadable    []Skipped
	Flagged       []Skipped
	PoolCells     int
	BankRows      int
	BankBytes     int64
	// Patch distances of the held-out strips (median, 99th percentile,
	// largest) and the mapping fitted on them.
	DistanceMedian, DistanceP99, DistanceMax float64
	Mapping                                  inference.ScoreMapping
	// Shares of the held-out strips each decision would get at the
	// model's default thresholds.
	PassShare, ReviewShare, RejectShare float64
	// NewGoodPassShare estimates the share of good strips not seen in
	// teaching that would be auto-passed (leave one held-out strip out,
	// fit the mapping on the rest, judge it).
	NewGoodPassShare float64
	// Strip probability spread over the held-out strips.
	ProbabilityMin, ProbabilityMedian, ProbabilityMax float64
	// Texture is the texture of the folder's good strips (nil when none
	// could be judged), written into the manifest: the taught model judges
	// a frame's steel texture against its line's.
	Texture  *inference.LineTexture
	Duration time.Duration
}

// Result is a taught model, not yet written.
type Result struct {
	Manifest *inference.Manifest
	ONNX     []byte
	// Bank is an anomaly model's memory bank; Familiarity, a model's
	// familiarity statistics (a station model learned on windows).
	Bank        []byte
	Familiarity []byte
	Report      Report
}

// strip is one usable good strip. Its pixels are not kept: a folder of a
// thousand strips would hold 400 MB of them; each step decodes again.
type strip struct {
	path string
	size image.Point
}

// Teach teaches an anomaly model on opts.Good. It reads every strip,
// refuses a folder that is too small or of mixed sizes, flags strips very
// unlike the rest, chooses the memory bank from the taught strips and
// measures the model on the held-out ones.
func Teach(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	opts = withDefaults(opts)
	rep := Report{Folder: opts.Good}
	prog := newProgressor(opts.Progress, start)

	strips, err := readStrips(ctx, opts.Good, &rep, prog)
	if err != nil {
		return nil, err
	}
	base, onnx := models.AnomalyBackbone()
	featureEngine, _, err := OpenWithBank(base, onnx, [][]float32{make([]float32, models.AnomalyBackboneDim)},
		inference.ScoreMapping{Scale: 1}, opts.Engine)
	if err != nil {
		return nil, err
	}

	perStrip := max(1, opts.PoolCells/len(strips))
	pool, means, err := collectCells(ctx, featureEngine, strips, perStrip, prog)
	featureEngine.Close() // its session's memory is not needed any more
	if err != nil {
		return nil, err
	}
	keep := flagOutliers(strips, means, &rep)
	var usable []strip
	cellsOf := map[string][][]float32{}
	for i, s := range strips {
		if keep[i] {
			usable = append(usable, s)
			cellsOf[s.path] = pool[i]
		}
	}
	if len(usable) < MinGoodStrips {
		return nil, fmt.Errorf("%s: only %d strips left after %d were flagged as unlike the rest (%s); teaching needs at least %d",
			opts.Good, len(usable), len(rep.Flagged), flaggedList(rep.Flagged), MinGoodStrips)
	}
	taught, heldOut := splitHoldOut(usable, opts.HoldOut)
	var kept [][]float32
	for _, s := range taught {
		kept = append(kept, cellsOf[s.path]...)
	}
	rep.Taught = len(taught)
	rep.PoolCells = len(kept)
	bank, err := Coreset(ctx, kept, min(opts.BankRows, len(kept)), func(done, total int) {
		prog.report("Choosing the memory bank", done, total, 0.55, 0.3)
	})
	if err != nil {
		return nil, err
	}
	rep.BankRows = len(bank)

	named := *base
	named.Name, named.File = opts.Name, opts.Name+".onnx"
	scorer, m, err := OpenWithBank(&named, onnx, bank, inference.ScoreMapping{Scale: 1}, opts.Engine)
	if err != nil {
		return nil, err
	}
	defer scorer.Close()
	dists := make([][]float64, len(heldOut))
	for i, s := range heldOut {
		img, err := readStrip(s.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		if dists[i], err = scorer.AnomalyDistances(ctx, img); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		prog.report("Measuring the held-out strips", i+1, len(heldOut), 0.85, 0.15)
	}
	m.Anomaly.Mapping = fitMapping(dists, m.DefaultThresholds.Pass, &rep)
	scoreHeldOut(heldOut, dists, m, &rep)
	rep.NewGoodPassShare = leaveOneOutPass(dists, m.DefaultThresholds)
	bankData := inference.EncodeBank(bank)
	m.Anomaly.Bank.SHA256 = inference.SHA256Hex(bankData)
	rep.BankBytes = m.Anomaly.Bank.Bytes
	rep.Duration = time.Since(start)
	describe(m, &rep)
	m.Texture = rep.Texture
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &Result{Manifest: m, ONNX: onnx, Bank: bankData, Report: rep}, nil
}

func withDefaults(o Options) Options {
	if o.HoldOut == 0 {
		o.HoldOut = DefaultHoldOut
	}
	if o.BankRows <= 0 {
		o.BankRows = DefaultBankRows
	}
	o.BankRows = min(o.BankRows, inference.MaxBankRows)
	if o.PoolCells <= 0 {
		o.PoolCells = DefaultPoolCells
	}
	if o.Name == "" {
		o.Name = DefaultName(o.Good)
	}
	return o
}

// DefaultName names a model taught on folder.
func DefaultName(folder string) string {
	base := filepath.Base(filepath.Clean(folder))
	if base == "." || base == string(filepath.Separator) {
		base = "line"
	}
	return "good-steel-" + SafeName(base)
}

// SafeName keeps letters, digits, '-', '_' and '.', so a name is always a
// plain file name.
func SafeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), ".-")
}

// CheckOptions refuses options teaching cannot use, before any work.
func CheckOptions(o Options) error {
	switch {
	case o.Good == "":
		return errors.New("no folder of good strips given")
	case o.HoldOut < 0 || o.HoldOut > 0.5 || math.IsNaN(o.HoldOut):
		return fmt.Errorf("hold-out share %v must be between 0 and 0.5", o.HoldOut)
	case o.Name != "" && SafeName(o.Name) != o.Name:
		return fmt.Errorf("model name %q: use letters, digits, '-', '_' and '.' only", o.Name)
	}
	return nil
}

// readStrips reads every image under folder: unreadable files are listed
// and skipped, implausible ones flagged (inference.ImplausibleReason with
// the line not yet known, then strips with no steel texture beside the
// others: inference.FitLineTexture, which also measures the line's
// texture into rep.Texture); the rest must all have one size and be at
// least MinGoodStrips.
func readStrips(ctx context.Context, folder string, rep *Report, prog *progressor) ([]strip, error) {
	st, err := os.Stat(folder)
	if err != nil {
		return nil, fmt.Errorf("folder of good strips %s: %w", folder, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: teach takes a folder of defect-free strips", folder)
	}
	found := files.WalkImages(folder)
	rep.Found = len(found)
	var strips []strip
	var stats []inference.ImageStats
	for i, f := range found {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prog.report("Reading the strips", i+1, len(found), 0, 0.25)
		if f.Err != nil {
			rep.Unreadable = append(rep.Unreadable, Skipped{f.Path, f.Err.Error()})
			continue
		}
		d, err := decodeStrip(f.Path)
		if err != nil {
			rep.Unreadable = append(rep.Unreadable, Skipped{f.Path, err.Error()})
			continue
		}
		b := d.Image.Bounds()
		if reason := inference.ImplausibleReason(b.Dx(), b.Dy(), d.Stats, inference.UnknownLine); reason != "" {
			rep.Flagged = append(rep.Flagged, Skipped{f.Path, reason})
			continue
		}
		strips = append(strips, strip{path: f.Path, size: b.Size()})
		stats = append(stats, d.Stats)
	}
	strips = leaveOutTextureless(strips, stats, rep)
	sizes := map[image.Point][]string{}
	for _, s := range strips {
		sizes[s.size] = append(sizes[s.size], s.path)
	}
	if len(sizes) > 1 {
		return nil, mixedSizesError(folder, sizes)
	}
	if len(strips) < MinGoodStrips {
		msg := fmt.Sprintf("%s: %d usable strips, teaching needs at least %d defect-free strips of one line", folder, len(strips), MinGoodStrips)
		if n := len(rep.Unreadable) + len(rep.Flagged); n > 0 {
			msg += fmt.Sprintf(" (%d of %d image files left out: %s)", n, len(found), skippedSummary(rep))
		}
		return nil, errors.New(msg)
	}
	for size := range sizes {
		rep.Width, rep.Height = size.X, size.Y
	}
	return strips, nil
}

// leaveOutTextureless measures the line's texture on the strips (their
// statistics in stats) into rep.Texture, and flags and leaves out those
// with no steel texture beside the others.
func leaveOutTextureless(strips []strip, stats []inference.ImageStats, rep *Report) []strip {
	line, outlier := inference.FitLineTexture(stats)
	rep.Texture = line
	kept := strips[:0]
	for i, s := range strips {
		if outlier[i] {
			rep.Flagged = append(rep.Flagged, Skipped{s.path, fmt.Sprintf("no steel texture beside the other strips of the folder (texture %.3f, theirs %.2f and above for 95 %% of them): left out",
				stats[i].Texture.Score, line.P05)})
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// readStrip reads and decodes one image file with the engine's own limits.
func readStrip(path string) (image.Image, error) {
	d, err := decodeStrip(path)
	return d.Image, err
}

func decodeStrip(path string) (inference.DecodedImage, error) {
	data, err := inference.ReadImageFile(path)
	if err != nil {
		return inference.DecodedImage{}, err
	}
	return inference.DecodeImage(data, 0)
}

func mixedSizesError(folder string, sizes map[image.Point][]string) error {
	type group struct {
		size  image.Point
		paths []string
	}
	var gs []group
	for s, p := range sizes {
		gs = append(gs, group{s, p})
	}
	sort.Slice(gs, func(i, j int) bool { return len(gs[i].paths) > len(gs[j].paths) })
	var parts []string
	for _, g := range gs {
		parts = append(parts, fmt.Sprintf("%d×%d (%d, e.g. %s)", g.size.X, g.size.Y, len(g.paths), filepath.Base(g.paths[0])))
	}
	return fmt.Errorf("%s holds strips of mixed sizes: %s; teach on one line's strips, all of one size", folder, strings.Join(parts, ", "))
}

func skippedSummary(rep *Report) string {
	var parts []string
	if n := len(rep.Unreadable); n > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", n))
	}
	if n := len(rep.Flagged); n > 0 {
		parts = append(parts, fmt.Sprintf("%d implausible", n))
	}
	return strings.Join(parts, ", ")
}

func flaggedList(f []Skipped) string {
	var names []string
	for i, s := range f {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(f)-5))
			break
		}
		names = append(names, filepath.Base(s.Path))
	}
	return strings.Join(names, ", ")
}

// splitHoldOut keeps a share of the strips aside, chosen by a hash of each
// file's name: the same folder always splits the same way, whatever order
// its files are listed in.
func splitHoldOut(strips []strip, share float64) (taught, heldOut []strip) {
	n := max(minHeldOut, int(math.Round(share*float64(len(strips)))))
	type keyed struct {
		key uint64
		s   strip
	}
	ks := make([]keyed, len(strips))
	for i, s := range strips {
		h := sha256.Sum256([]byte(filepath.Base(s.path) + "\x00" + s.path))
		ks[i] = keyed{binary.BigEndian.Uint64(h[:8]), s}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	for i, k := range ks {
		if i < n {
			heldOut = append(heldOut, k.s)
		} else {
			taught = append(taught, k.s)
		}
	}
	return taught, heldOut
}

// collectCells runs the backbone on every strip and keeps an even
// random sample of perStrip of its cell features (and the mean of all its
// cells, for flagging strips unlike the rest).
func collectCells(ctx context.Context, e *inference.Engine, strips []strip, perStrip int, prog *progressor) ([][][]float32, [][]float32, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([][][]float32, len(strips))
	means := make([][]float32, len(strips))
	for i, s := range strips {
		img, err := readStrip(s.path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.path, err)
		}
		cells, err := e.CellFeatures(ctx, img)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.path, err)
		}
		mean := make([]float32, len(cells[0]))
		for _, c := range cells {
			for d, v := range c {
				mean[d] += v / float32(len(cells))
			}
		}
		means[i] = mean
		if len(cells) > perStrip {
			rng.Shuffle(len(cells), func(a, b int) { cells[a], cells[b] = cells[b], cells[a] })
			cells = slices.Clip(cells[:perStrip])
		}
		pool[i] = cells
		prog.report("Reading the steel's texture", i+1, len(strips), 0.25, 0.3)
	}
	return pool, means, nil
}

// outlierMADs is how far, in robust standard deviations, a strip's mean
// feature may lie from the others' before it is flagged.
const outlierMADs = 6

// flagOutliers flags taught strips whose mean feature lies far from the
// others' (the distance to the element-wise median, beyond outlierMADs
// robust deviations): one bad strip would teach the model that its defect
// is normal. It returns which strips to keep.
func flagOutliers(strips []strip, means [][]float32, rep *Report) []bool {
	dim := len(means[0])
	median := make([]float32, dim)
	col := make([]float64, len(means))
	for d := range dim {
		for i, m := range means {
			col[i] = float64(m[d])
		}
		median[d] = float32(quantile(col, 0.5))
	}
	dist := make([]float64, len(means))
	for i, m := range means {
		dist[i] = euclid(m, median)
	}
	med := quantile(dist, 0.5)
	dev := make([]float64, len(dist))
	for i, d := range dist {
		dev[i] = math.Abs(d - med)
	}
	limit := med + outlierMADs*1.4826*max(quantile(dev, 0.5), 0.05*med)
	keep := make([]bool, len(strips))
	for i, d := range dist {
		keep[i] = d <= limit
		if !keep[i] {
			rep.Flagged = append(rep.Flagged, Skipped{strips[i].path,
				fmt.Sprintf("looks very unlike the other strips (texture distance %.2f, the others' limit %.2f): left out", d, limit)})
		}
	}
	return keep
}

func euclid(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// quantile is the q-quantile of v (linear between order statistics); v is
// not changed.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// OpenWithBank opens an engine on the backbone with the given bank and
// mapping (teaching's in-memory model); it returns the engine and the
// manifest it made, a copy of base with its anomaly section.
func OpenWithBank(base *inference.Manifest, onnx []byte, bank [][]float32, mapping inference.ScoreMapping, opts inference.EngineOptions) (*inference.Engine, *inference.Manifest, error) {
	m := *base
	m.Anomaly = &inference.AnomalySpec{
		Bank: inference.BankSpec{File: m.Name + ".bank", SHA256: strings.Repeat("0", 64), Rows: len(bank),
			Dim: len(bank[0]), Bytes: inference.BankMemory(len(bank), len(bank[0]))},
		Mapping: mapping,
	}
	m.AttachBankRows(bank)
	e, err := inference.NewEngine(&m, onnx, "teaching", opts)
	if err != nil {
		return nil, nil, err
	}
	return e, &m, nil
}

// The mapping is fitted on the held-out strips' patch distances: their
// 99th percentile maps to mapP99, and the default pass threshold lies just
// above the farthest held-out patch (and at least passSpreads of their
// spread, 99th percentile minus median, above that percentile). Every
// held-out good strip therefore passes, and a patch a little farther from
// normal steel than any good one goes to review, then to reject.
const (
	mapP99      = 0.25
	passMargin  = 1.01
	passSpreads = 0.25
)

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// fitMapping fits the distance-to-probability mapping on the held-out
// strips' patch distances for the given pass threshold.
func fitMapping(dists [][]float64, pass float64, rep *Report) inference.ScoreMapping {
	var all []float64
	for _, d := range dists {
		all = append(all, d...)
	}
	med, p99, worst := quantile(all, 0.5), quantile(all, 0.99), slices.Max(all)
	rep.DistanceMedian, rep.DistanceP99, rep.DistanceMax = med, p99, worst
	return mappingFor(med, p99, worst, pass)
}

func mappingFor(med, p99, worst, pass float64) inference.ScoreMapping {
	spread := max(p99-med, 0.02*med, 1e-6)
	atPass := max(worst*passMargin, p99+passSpreads*spread)
	scale := (atPass - p99) / (logit(pass) - logit(mapP99))
	return inference.ScoreMapping{Center: p99 - scale*logit(mapP99), Scale: scale}
}

// leaveOneOutPass estimates the share of new good strips that would be
// auto-passed: each held-out strip is judged by a mapping fitted on the
// others (the mapping fitted on all of them passes every one by design).
func leaveOneOutPass(dists [][]float64, t verdict.Thresholds) float64 {
	if len(dists) < 2 {
		return math.NaN()
	}
	passed := 0
	for i := range dists {
		var others []float64
		for j, d := range dists {
			if j != i {
				others = append(others, d...)
			}
		}
		m := mappingFor(quantile(others, 0.5), quantile(others, 0.99), slices.Max(others), t.Pass)
		p := make([]float32, len(dists[i]))
		for j, d := range dists[i] {
			p[j] = m.Probability(d)
		}
		if v, err := verdict.Decide(p, t, nil); err == nil && v.Decision == verdict.Pass {
			passed++
		}
	}
	return float64(passed) / float64(len(dists))
}

// scoreHeldOut decides every held-out strip as the engine would, from its
// patch distances and the fitted mapping.
func scoreHeldOut(heldOut []strip, dists [][]float64, m *inference.Manifest, rep *Report) {
	var probs []float64
	counts := map[verdict.Decision]int{}
	for i, s := range heldOut {
		p := make([]float32, len(dists[i]))
		for j, d := range dists[i] {
			p[j] = m.Anomaly.Mapping.Probability(d)
		}
		v, err := verdict.Decide(p, m.DefaultThresholds, nil)
		if err != nil {
			continue
		}
		worst := slices.Max(p)
		rep.HeldOut = append(rep.HeldOut, StripScore{Path: s.path, Probability: worst, Decision: v.Decision})
		probs = append(probs, float64(worst))
		counts[v.Decision]++
	}
	n := float64(len(rep.HeldOut))
	rep.PassShare = float64(counts[verdict.Pass]) / n
	rep.ReviewShare = float64(counts[verdict.Review]) / n
	rep.RejectShare = float64(counts[verdict.Reject]) / n
	rep.ProbabilityMin, rep.ProbabilityMedian, rep.ProbabilityMax = slices.Min(probs), quantile(probs, 0.5), slices.Max(probs)
}
