package inference

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// EngineOptions tune how a model is run.
type EngineOptions struct {
	// LibraryPath is an explicit ONNX Runtime library (the --ort-lib flag);
	// empty means search the usual places (see FindLibrary).
	LibraryPath string
	// MaxBatch bounds how many patches go through the model in one run;
	// larger images are scored in chunks. 0 means DefaultMaxBatch.
	MaxBatch int
	// Threads is ONNX Runtime's intra-op thread count; 0 means one per CPU.
	Threads int
	// MaxPixels refuses larger images before decoding; 0 means DefaultMaxPixels.
	MaxPixels int64
	// ProfilePrefix, when set, makes ONNX Runtime write a per-operator
	// profile (Chrome trace JSON) named PREFIX_<time>.json when the engine
	// is closed. For `steelinspect bench --profile`; it slows every run.
	ProfilePrefix string
	// Optimization is ONNX Runtime's graph optimisation level: "all" (the
	// default when empty: layout transformations such as NCHWc included),
	// "extended", "basic" or "none". Lower levels exist to be measured
	// (`steelinspect bench --opt-level`), not to be used.
	Optimization string
	// NoMemArena turns off ONNX Runtime's CPU memory arena (on by default).
	NoMemArena bool
	// NoSpin stops ONNX Runtime's worker threads from spinning while they
	// wait for work (on by default: lower latency, busy cores between runs).
	NoSpin bool
}

// OptimizationLevels are the accepted EngineOptions.Optimization values.
var OptimizationLevels = []string{"all", "extended", "basic", "none"}

func graphOptimizationLevel(name string) (ort.GraphOptimizationLevel, error) {
	switch name {
	case "", "all":
		return ort.GraphOptimizationLevelEnableAll, nil
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended, nil
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic, nil
	case "none":
		return ort.GraphOptimizationLevelDisableAll, nil
	}
	return 0, fmt.Errorf("graph optimisation level %q: want one of %s", name, strings.Join(OptimizationLevels, ", "))
}

// DefaultMaxBatch holds every patch of a 1600×256 strip (12) in one run.
const DefaultMaxBatch = 16

// Engine scores images with one model. It owns one ONNX Runtime session,
// created once, and one input buffer reused for every run; calls are
// serialised, so an Engine is safe for concurrent use.
type Engine struct {
	manifest   *Manifest
	source     string
	maxPixels  int64
	patchElems int
	numClasses int
	fixedBatch int // the model's batch size when it is not dynamic
	outputRank int // 1 for [N], 2 for [N,classes]
	maxBatch   int
	threads    int // ONNX Runtime intra-op threads in use

	// featureDim is the length of a whole-strip model's window feature
	// vector (its features output), 0 when it has none; familiarity holds
	// the statistics that turn features into familiarity scores, nil when
	// the model has none.
	featureDim  int
	familiarity *FamiliarityStats
	// domainDim is the length of the image-level features that the
	// model's validated-domain check reads (its domain output), 0 when the
	// model has no such check.
	domainDim int
	// bank is an anomaly model's memory bank, fed with every run.
	bank *anomalyBank

	mu        sync.Mutex
	session   *ort.DynamicAdvancedSession
	buf       []float32                    // maxBatch patches of model input
	outBufs   [][]float32                  // one buffer per model output
	headBuf   []float32                    // a station model's cell logits of one band
	poolBuf   []float32                    // one patch's cell logits, for pooling
	hiddenBuf []float32                    // a hidden unit's sums over one band's cells
	inputs    map[int]*ort.Tensor[float32] // views of buf, one per batch size
	outputs   map[int][]*ort.Tensor[float32]
	runs      atomic.Int64
}

// scored is what one scoring call gives per image: the patch rectangles,
// their probabilities and (for a model with familiarity statistics) their
// familiarity scores, plus the time spent inside ONNX Runtime.
type scored struct {
	rects       [][]image.Rectangle
	probs       [][]float32
	familiarity [][]float32
	// distances and cells are an anomaly model's: each patch's distance
	// to normal steel and each image's cell map.
	// domain is each image's validated-domain score, for a model with
	// that check.
	domain    []domainScore
	distances [][]float32
	cells     []*CellMap
	// classes is a station model's most likely defect class per patch
	// (nil when its labels carried no classes).
	classes   [][]string
	modelTime time.Duration
}

// OpenModel loads the model at path (its .onnx or its manifest).
func OpenModel(path string, opts EngineOptions) (*Engine, error) {
	m, data, err := LoadModelFiles(path)
	if err != nil {
		return nil, err
	}
	return NewEngine(m, data, path, opts)
}

// NewEngine checks onnxData against the manifest (hash, input and output
// names, shapes and types) and creates the session. source says where the
// model came from, for display.
func NewEngine(m *Manifest, onnxData []byte, source string, opts EngineOptions) (*Engine, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := m.CheckHash(onnxData); err != nil {
		return nil, err
	}
	if err := InitRuntime(opts.LibraryPath); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnxData)
	if err != nil {
		return nil, fmt.Errorf("model %q cannot be loaded by ONNX Runtime: %w", m.Name, err)
	}
	e := &Engine{
		manifest:   m,
		source:     source,
		maxPixels:  opts.MaxPixels,
		patchElems: m.Input.Channels * m.Input.PatchSize * m.Input.PatchSize,
		numClasses: len(m.Classes),
		maxBatch:   opts.MaxBatch,
		inputs:     map[int]*ort.Tensor[float32]{},
		outputs:    map[int][]*ort.Tensor[float32]{},
	}
	if e.maxBatch <= 0 {
		e.maxBatch = DefaultMaxBatch
	}
	opened := false
	defer func() {
		if !opened {
			e.Close() // frees what was made before the failure (the bank's tensors)
		}
	}()
	inputNames, outputNames, err := e.prepare(m, ins, outs)
	if err != nil {
		return nil, err
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	e.threads = opts.Threads
	if e.threads <= 0 {
		e.threads = runtime.NumCPU()
	}
	e.session, err = ort.NewDynamicAdvancedSessionWithONNXData(onnxData, inputNames, outputNames, so)
	if err != nil {
		return nil, fmt.Errorf("model %q: create session: %w", m.Name, err)
	}
	opened = true
	return e, nil
}

// prepare checks the model's graph against the manifest for its kind and
// makes the buffers it is run with; it returns the session's input and
// output names.
func (e *Engine) prepare(m *Manifest, ins, outs []ort.InputOutputInfo) (inputNames, outputNames []string, err error) {
	inputNames, outputNames = []string{m.Input.Name}, []string{m.Output.Name}
	if m.IsAnomaly() {
		if err := e.prepareAnomaly(m, ins, outs); err != nil {
			return nil, nil, err
		}
		return append(inputNames, anomalyBankInput, anomalyBankSqInput), append(outputNames, m.Output.Features), nil
	}
	if e.fixedBatch, e.outputRank, err = checkModelShapes(m, ins, outs); err != nil {
		return nil, nil, fmt.Errorf("model %q does not match its manifest: %w", m.Name, err)
	}
	if e.fixedBatch > 0 {
		e.maxBatch = e.fixedBatch
	}
	if m.WholeStrip() {
		if e.featureDim, err = checkFeaturesOutput(m, outs); err != nil {
			return nil, nil, fmt.Errorf("model %q does not match its manifest: %w", m.Name, err)
		}
		if h := m.WindowHead; h != nil && len(h.Weights) != e.featureDim {
			return nil, nil, fmt.Errorf("model %q: its window head has %d weights, the model gives %d window features",
				m.Name, len(h.Weights), e.featureDim)
		}
		windows := chunkWindows(maxChunkWidth, m.Input)
		e.buf = make([]float32, maxChunkWidth*m.Input.PatchSize*m.Input.Channels)
		e.outBufs = [][]float32{make([]float32, windows)}
		if e.featureDim > 0 {
			e.outBufs = append(e.outBufs, make([]float32, e.featureDim*windows))
			outputNames = append(outputNames, m.Output.Features)
		}
	} else {
		e.buf = make([]float32, e.maxBatch*e.patchElems)
		e.outBufs = [][]float32{make([]float32, e.maxBatch*e.numClasses)}
	}
	if m.Familiarity != nil {
		if m.familiarityStats == nil {
			return nil, nil, fmt.Errorf("model %q: its familiarity statistics (%s) were not loaded", m.Name, m.Familiarity.File)
		}
		if m.familiarityStats.Dim != e.featureDim {
			return nil, nil, fmt.Errorf("model %q: familiarity statistics are for %d features, the model gives %d",
				m.Name, m.familiarityStats.Dim, e.featureDim)
		}
		e.familiarity = m.familiarityStats
		if d := e.familiarity.Domain; d != nil {
			if e.domainDim, err = checkDomainOutput(m, outs, d.Dim); err != nil {
				return nil, nil, fmt.Errorf("model %q does not match its manifest: %w", m.Name, err)
			}
			e.outBufs = append(e.outBufs, make([]float32, e.domainDim))
			outputNames = append(outputNames, m.Output.Domain)
		}
	}
	return inputNames, outputNames, nil
}

// sessionOptions makes ONNX Runtime's session options from opts (the
// caller destroys them; the thread count is set by NewEngine).
func sessionOptions(opts EngineOptions) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	level, err := graphOptimizationLevel(opts.Optimization)
	if err != nil {
		so.Destroy()
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	steps := []func() error{
		func() error { return so.SetIntraOpNumThreads(threads) },
		func() error { return so.SetInterOpNumThreads(1) },
		func() error { return so.SetGraphOptimizationLevel(level) },
		// QuickGeluFusion turns EfficientNet's SiLU (x·sigmoid(x)) into a
		// QuickGelu kernel that has no blocked-layout (NCHWc) version, so
		// ONNX Runtime converts every activation map out of and back into
		// the blocked layout around each one: a third of the model's time.
		// Left as Sigmoid and Mul, the activations stay blocked.
		func() error {
			return so.AddSessionConfigEntry("optimization.disable_specified_optimizers", "QuickGeluFusion")
		},
	}
	if opts.NoMemArena {
		steps = append(steps, func() error { return so.SetCpuMemArena(false) })
	}
	if opts.NoSpin {
		steps = append(steps, func() error { return so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0") })
	}
	if opts.ProfilePrefix != "" {
		steps = append(steps, func() error { return so.EnableProfiling(opts.ProfilePrefix) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}

// checkModelShapes compares the model's real input and output with the
// manifest and returns the fixed batch size (0 when it is dynamic) and the
// output's rank.
//
// Cyclomatic complexity above 15, kept: a flat list of shape checks, each reporting its own mismatch.
//
//gocyclo:ignore
func checkModelShapes(m *Manifest, ins, outs []ort.InputOutputInfo) (batch, outRank int, err error) {
	if len(ins) != 1 {
		return 0, 0, fmt.Errorf("model has %d inputs, the engine feeds exactly one", len(ins))
	}
	in := ins[0]
	if in.Name != m.Input.Name {
		return 0, 0, fmt.Errorf("input is named %q, manifest says %q", in.Name, m.Input.Name)
	}
	if in.DataType != ort.TensorElementDataTypeFloat {
		return 0, 0, fmt.Errorf("input %q is %v, the engine feeds float32", in.Name, in.DataType)
	}
	if m.WholeStrip() {
		return checkWholeStripShapes(m, in, outs)
	}
	ps, ch := int64(m.Input.PatchSize), int64(m.Input.Channels)
	want := ort.NewShape(-1, ch, ps, ps)
	if m.Input.Layout == "NHWC" {
		want = ort.NewShape(-1, ps, ps, ch)
	}
	if len(in.Dimensions) != 4 {
		return 0, 0, fmt.Errorf("input %q has shape %v, manifest says %s %v", in.Name, in.Dimensions, m.Input.Layout, want)
	}
	for i := 1; i < 4; i++ {
		if d := in.Dimensions[i]; d != want[i] && d > 0 {
			return 0, 0, fmt.Errorf("input %q has shape %v, manifest says %s %v", in.Name, in.Dimensions, m.Input.Layout, want)
		}
	}
	out, err := findOutput(m, outs)
	if err != nil {
		return 0, 0, err
	}
	nc := int64(len(m.Classes))
	switch {
	case len(out.Dimensions) == 1 && nc == 1:
	case len(out.Dimensions) == 2 && (out.Dimensions[1] == nc || out.Dimensions[1] <= 0):
	default:
		return 0, 0, fmt.Errorf("output %q has shape %v, manifest's %d class(es) need [N,%d]", out.Name, out.Dimensions, nc, nc)
	}
	return int(max(in.Dimensions[0], 0)), len(out.Dimensions), nil
}

// findOutput returns the model output the manifest names, checked to be float32.
func findOutput(m *Manifest, outs []ort.InputOutputInfo) (*ort.InputOutputInfo, error) {
	var names []string
	for i := range outs {
		names = append(names, outs[i].Name)
		if outs[i].Name != m.Output.Name {
			continue
		}
		if outs[i].DataType != ort.TensorElementDataTypeFloat {
			return nil, fmt.Errorf("output %q is %v, want float32", outs[i].Name, outs[i].DataType)
		}
		return &outs[i], nil
	}
	return nil, fmt.Errorf("no output named %q (model outputs: %v)", m.Output.Name, names)
}

// Manifest returns the model's manifest.
func (e *Engine) Manifest() *Manifest { return e.manifest }

// Source says where the model was loaded from.
func (e *Engine) Source() string { return e.source }

// Threads is the number of ONNX Runtime intra-op threads the session uses
// (EngineOptions.Threads, or one per CPU).
func (e *Engine) Threads() int { return e.threads }

// Runs counts ONNX Runtime runs so far (tests use it to prove that a
// threshold change does not infer again).
func (e *Engine) Runs() int64 { return e.runs.Load() }

// Close frees the session and its tensors. The Engine is unusable after.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	if e.session != nil {
		errs = append(errs, e.session.Destroy())
		e.session = nil
	}
	for _, t := range e.inputs {
		errs = append(errs, t.Destroy())
	}
	for _, ts := range e.outputs {
		for _, t := range ts {
			errs = append(errs, t.Destroy())
		}
	}
	clear(e.inputs)
	clear(e.outputs)
	if e.bank != nil {
		errs = append(errs, e.bank.destroy())
		e.bank = nil
	}
	return errors.Join(errs...)
}

// Score returns one rectangle and one defect probability per patch of img.
func (e *Engine) Score(ctx context.Context, img image.Image) ([]image.Rectangle, []float32, error) {
	rects, probs, err := e.ScoreMany(ctx, []image.Image{img})
	if err != nil {
		return nil, nil, err
	}
	return rects[0], probs[0], nil
}

// ScoreMany scores several images together: their patches share model runs
// (up to MaxBatch patches each), which is what a server batching concurrent
// requests wants. Results are per image, in order.
func (e *Engine) ScoreMany(ctx context.Context, imgs []image.Image) ([][]image.Rectangle, [][]float32, error) {
	s, err := e.scoreMany(ctx, imgs)
	return s.rects, s.probs, err
}

// scoreMany is ScoreMany that also gives familiarity scores and the time
// spent inside ONNX Runtime, so timings can tell preprocessing from the
// model itself.
func (e *Engine) scoreMany(ctx context.Context, imgs []image.Image) (scored, error) {
	if e.manifest.IsAnomaly() {
		return e.scoreAnomaly(ctx, imgs, nil)
	}
	if e.manifest.WholeStrip() {
		return e.scoreWholeStrips(ctx, imgs, featureSinks{})
	}
	rects, probs, modelTime, err := e.scorePerPatch(ctx, imgs)
	return scored{rects: rects, probs: probs, modelTime: modelTime}, err
}

// HasFamiliarity reports whether the model can tell familiar strips from
// unfamiliar ones (it has a features output and statistics for it).
func (e *Engine) HasFamiliarity() bool { return e.familiarity != nil }

// FeatureDim is the length of the model's window feature vectors, 0 for a
// model without a features output.
func (e *Engine) FeatureDim() int { return e.featureDim }

// PatchFeatures runs a whole-strip model with a features output on img and
// returns a copy of every patch's feature vector, in patch order (for
// fitting familiarity statistics).
func (e *Engine) PatchFeatures(ctx context.Context, img image.Image) ([][]float32, error) {
	if e.manifest.IsAnomaly() {
		return nil, fmt.Errorf("model %q is an anomaly model: it measures how unlike its good strips a strip is itself, it needs no familiarity statistics", e.manifest.Name)
	}
	if e.featureDim == 0 {
		return nil, fmt.Errorf("model %q has no features output", e.manifest.Name)
	}
	var out [][]float32
	sink := func(_, patch int, feats []float32, stride int) {
		for len(out) <= patch {
			out = append(out, nil)
		}
		v := make([]float32, e.featureDim)
		for d := range v {
			v[d] = feats[d*stride]
		}
		out[patch] = v
	}
	if _, err := e.scoreWholeStrips(ctx, []image.Image{img}, featureSinks{patch: sink}); err != nil {
		return nil, err
	}
	return out, nil
}

// DomainFeatures runs a whole-strip model with a validated-domain check on
// img and returns the vector the check scores: its bands' vectors
// averaged, each weighted by its width, as their scores are. It is what
// training/domain_check.py fits the check on (through tools/vectors):
// the vector of the graph as it runs here, INT8 included, which can differ
// from its float original by more than the check's margin.
func (e *Engine) DomainFeatures(ctx context.Context, img image.Image) ([]float64, error) {
	if e.domainDim == 0 {
		return nil, fmt.Errorf("model %q has no validated-domain check", e.manifest.Name)
	}
	sum := make([]float64, e.domainDim)
	weight := 0.0
	sink := func(_ int, vec []float32, width int) {
		for d, v := range vec[:e.domainDim] {
			sum[d] += float64(v) * float64(width)
		}
		weight += float64(width)
	}
	if _, err := e.scoreWholeStrips(ctx, []image.Image{img}, featureSinks{domain: sink}); err != nil {
		return nil, err
	}
	if weight == 0 {
		return nil, fmt.Errorf("model %q: no band of the image was scored", e.manifest.Name)
	}
	for d := range sum {
		sum[d] /= weight
	}
	return sum, nil
}

// scorePerPatch scores images with a per-patch model, MaxBatch patches a run.
func (e *Engine) scorePerPatch(ctx context.Context, imgs []image.Image) ([][]image.Rectangle, [][]float32, time.Duration, error) {
	in := e.manifest.Input
	type patchRef struct {
		img  int
		rect image.Rectangle
	}
	rects := make([][]image.Rectangle, len(imgs))
	probs := make([][]float32, len(imgs))
	planes := make([]*pixelPlanes, len(imgs))
	var queue []patchRef
	for i, img := range imgs {
		b := img.Bounds()
		rects[i] = TilePatches(b.Dx(), b.Dy(), in.PatchSize, in.Stride)
		probs[i] = make([]float32, 0, len(rects[i]))
		planes[i] = toPlanes(img, in.Channels)
		for _, r := range rects[i] {
			queue = append(queue, patchRef{i, r})
		}
	}

	var modelTime time.Duration
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return nil, nil, 0, errors.New("engine is closed")
	}
	for start := 0; start < len(queue); start += e.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		chunk := queue[start:min(start+e.maxBatch, len(queue))]
		batch := len(chunk)
		if e.fixedBatch > 0 {
			batch = e.fixedBatch
			clear(e.buf[len(chunk)*e.patchElems:])
		}
		for i, p := range chunk {
			fillPatch(e.buf[i*e.patchElems:(i+1)*e.patchElems], planes[p.img], p.rect, in.PatchSize, in.Layout, &e.manifest.Preprocessing)
		}
		runStart := time.Now()
		scores, err := e.run(batch)
		modelTime += time.Since(runStart)
		if err != nil {
			return nil, nil, 0, err
		}
		for i, p := range chunk {
			prob, err := e.patchProbability(scores[i*e.numClasses : (i+1)*e.numClasses])
			if err != nil {
				return nil, nil, 0, fmt.Errorf("patch at %d,%d: %w", p.rect.Min.X, p.rect.Min.Y, err)
			}
			probs[p.img] = append(probs[p.img], prob)
		}
	}
	return rects, probs, modelTime, nil
}

// run feeds the first batch patches of e.buf to the model.
func (e *Engine) run(batch int) ([]float32, error) {
	in := e.manifest.Input
	shape := ort.NewShape(int64(batch), int64(in.Channels), int64(in.PatchSize), int64(in.PatchSize))
	if in.Layout == "NHWC" {
		shape = ort.NewShape(int64(batch), int64(in.PatchSize), int64(in.PatchSize), int64(in.Channels))
	}
	outShape := ort.NewShape(int64(batch), int64(e.numClasses))
	if e.outputRank == 1 {
		outShape = ort.NewShape(int64(batch))
	}
	outs, err := e.runTensors(batch, shape, outShape)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// runTensors runs the model on the start of e.buf with the given input and
// output shapes (one per model output, in session order). The tensors
// (views of e.buf and e.outBufs) are made once per key and kept.
func (e *Engine) runTensors(key int, inShape ort.Shape, outShapes ...ort.Shape) ([][]float32, error) {
	input, ok := e.inputs[key]
	if !ok {
		t, err := ort.NewTensor(inShape, e.buf[:inShape.FlattenedSize()])
		if err != nil {
			return nil, fmt.Errorf("input tensor: %w", err)
		}
		var outs []*ort.Tensor[float32]
		for i, sh := range outShapes {
			out, err := ort.NewTensor(sh, e.outBufs[i][:sh.FlattenedSize()])
			if err != nil {
				t.Destroy()
				for _, o := range outs {
					o.Destroy()
				}
				return nil, fmt.Errorf("output tensor: %w", err)
			}
			outs = append(outs, out)
		}
		e.inputs[key], e.outputs[key] = t, outs
		input = t
	}
	outputs := e.outputs[key]
	values := make([]ort.Value, len(outputs))
	for i, o := range outputs {
		values[i] = o
	}
	inputs := []ort.Value{input}
	if e.bank != nil {
		inputs = append(inputs, e.bank.inputs...)
	}
	if err := e.session.Run(inputs, values); err != nil {
		return nil, fmt.Errorf("inference failed: %w", err)
	}
	e.runs.Add(1)
	data := make([][]float32, len(outputs))
	for i, o := range outputs {
		data[i] = o.GetData()
	}
	return data, nil
}

// patchProbability turns one patch's class scores into its defect
// probability: the most likely defect class, after a sigmoid for logits.
func (e *Engine) patchProbability(scores []float32) (float32, error) {
	best := float32(math.Inf(-1))
	for _, s := range scores {
		if e.manifest.Output.Kind == "logit" {
			s = float32(1 / (1 + math.Exp(-float64(s))))
		}
		if math.IsNaN(float64(s)) {
			return 0, errors.New("model produced NaN")
		}
		best = max(best, s)
	}
	if best < 0 || best > 1 {
		return 0, fmt.Errorf("model produced %v, not a probability (is output.kind right?)", best)
	}
	return best, nil
}
