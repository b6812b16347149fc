package inference

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// An anomaly model (Manifest.Kind "anomaly") is taught on good strips only
// (package teach): a pretrained backbone gives one feature per Cell×Cell
// square of the strip, and the features of the good strips, cut down to a
// memory bank, say what normal steel looks like. A cell's anomaly is the
// distance from its feature to the nearest bank feature; a patch's is the
// largest over its cells, mapped to a probability (AnomalySpec.Mapping) so
// that thresholds, calibration and reports treat it like a classifier's.
//
// The backbone graph does the nearest-neighbour search itself: besides
// the image it takes the bank (bank_t [D,N], bank_sqnorm [N]) and returns
// every cell's distance (output.name, [1,rows,cols]) and feature
// (output.features, [1,D,rows,cols]) in one run.

// AnomalySpec is what an anomaly model adds to its manifest.
type AnomalySpec struct {
	Bank BankSpec `json:"bank"`
	// Mapping turns a patch's distance into its defect probability.
	Mapping ScoreMapping `json:"mapping"`
	// Taught records what the model was taught on and measured to do on
	// its held-out good strips.
	Taught TaughtOn `json:"taught"`
	// Head, when present, makes this a station model: the cells are
	// scored by a head learned from labelled strips (see CellHead).
	Head *CellHead `json:"head,omitempty"`
}

// BankSpec names the memory bank file beside the manifest: Rows features of
// Dim float32 values each, little-endian, row after row.
type BankSpec struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	Dim    int    `json:"dim"`
	// Bytes is the bank's size in memory when loaded (its rows, their
	// transpose and their squared lengths).
	Bytes int64 `json:"bytes"`
}

// MaxBankRows bounds a bank, so that a model's memory and its scoring time
// stay bounded whatever a manifest says.
const MaxBankRows = 65536

// maxBankDim bounds a bank feature's length.
const maxBankDim = 4096

// MaxBankBytes bounds a bank file (and with MaxBankRows its memory).
const MaxBankBytes = 256 << 20

// ScoreMapping maps an anomaly distance d to a probability:
// 1/(1+exp(-(d-Center)/Scale)).
type ScoreMapping struct {
	Center float64 `json:"center"`
	Scale  float64 `json:"scale"`
}

// Probability maps a distance onto the defect-probability scale.
func (s ScoreMapping) Probability(d float64) float32 {
	return float32(1 / (1 + math.Exp(-(d-s.Center)/s.Scale)))
}

// validate adds to bad, naming the mapping field, a mapping that is not
// a finite center and a positive scale.
func (s ScoreMapping) validate(field string, bad problem) {
	if !(s.Scale > 0) || math.IsInf(s.Scale, 0) || math.IsNaN(s.Center) || math.IsInf(s.Center, 0) {
		bad("%s needs a finite center and a positive scale", field)
	}
}

// Distance is the inverse of Probability: the distance that maps to p.
func (s ScoreMapping) Distance(p float64) float64 {
	return s.Center + s.Scale*math.Log(p/(1-p))
}

// TaughtOn says what an anomaly model was taught on.
type TaughtOn struct {
	Folder  string `json:"folder"`
	Strips  int    `json:"strips"`
	HeldOut int    `json:"held_out"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	// Skipped and Flagged count the files left out: unreadable ones, and
	// strips that looked very unlike the rest.
	Skipped int `json:"skipped,omitempty"`
	Flagged int `json:"flagged,omitempty"`
}

// BankMemory is a bank's size in memory: its rows, their transpose and
// their squared lengths.
func BankMemory(rows, dim int) int64 { return int64(rows) * int64(2*dim+1) * 4 }

// validateAnomaly adds the problems of an anomaly manifest to bad.
//
// Cyclomatic complexity above 15, kept: a flat list of independent checks, each reporting its own problem.
//
//gocyclo:ignore
func (m *Manifest) validateAnomaly(bad problem) {
	a := m.Anomaly
	if m.Kind != KindAnomaly {
		if a != nil {
			bad("anomaly needs kind %s", KindAnomaly)
		}
		if m.Output.Kind == OutputDistance {
			bad("output.kind %s needs kind %s", OutputDistance, KindAnomaly)
		}
		return
	}
	if a == nil {
		bad("an anomaly model needs its anomaly section (bank and mapping)")
		return
	}
	if m.Variant != VariantWholeStrip {
		bad("an anomaly model is whole-strip")
	}
	if m.Output.Kind != OutputDistance || m.Output.Features == "" {
		bad("an anomaly model's output is a %s map with its features", OutputDistance)
	}
	if m.Familiarity != nil {
		bad("an anomaly model measures unfamiliarity itself: no familiarity section")
	}
	b := a.Bank
	if !plainFileName(b.File) {
		bad("anomaly.bank.file %q must be a file name beside the manifest", b.File)
	}
	if !validHash(b.SHA256) {
		bad("anomaly.bank.sha256 %q is not 64 hex digits", b.SHA256)
	}
	if b.Rows < 1 || b.Rows > MaxBankRows || b.Dim < 1 || b.Dim > maxBankDim || int64(b.Rows)*int64(b.Dim)*4 > MaxBankBytes {
		bad("anomaly.bank is %d×%d: want 1..%d rows of 1..%d values, at most %d MB", b.Rows, b.Dim, MaxBankRows, maxBankDim, MaxBankBytes>>20)
	} else if b.Bytes != BankMemory(b.Rows, b.Dim) {
		bad("anomaly.bank.bytes %d: a %d×%d bank takes %d", b.Bytes, b.Rows, b.Dim, BankMemory(b.Rows, b.Dim))
	}
	a.Mapping.validate("anomaly.mapping", bad)
	if a.Head != nil {
		a.Head.validate("anomaly.head", b.Dim, bad)
	}
}

// poolHead pools the head's logits of the cells of patch r, whose window
// starts at x, in the band whose cells start at (x0, y0) and are cols
// wide: the patch's score and the band index of its highest cell.
func (e *Engine) poolHead(h *CellHead, logits []float32, r image.Rectangle, x, x0, y0, cols int) (float32, int) {
	cell := e.manifest.Input.Cell
	vals := e.poolBuf[:0]
	top, topVal := 0, float32(math.Inf(-1))
	for y := r.Min.Y; y < r.Max.Y; y += cell {
		for xx := x; xx < r.Max.X; xx += cell {
			i := ((y-y0)/cell)*cols + (xx-x0)/cell
			vals = append(vals, logits[i])
			if logits[i] > topVal {
				top, topVal = i, logits[i]
			}
		}
	}
	e.poolBuf = vals
	return h.poolPatch(vals), top
}

// AttachBank checks the bank file's bytes against the manifest (size and
// hash) and keeps its features for NewEngine.
func (m *Manifest) AttachBank(data []byte) error {
	if m.Anomaly == nil {
		return fmt.Errorf("manifest %q names no memory bank", m.Name)
	}
	b := m.Anomaly.Bank
	if want := int64(b.Rows) * int64(b.Dim) * 4; int64(len(data)) != want {
		return fmt.Errorf("memory bank %s is %d bytes, a %d×%d bank is %d", b.File, len(data), b.Rows, b.Dim, want)
	}
	if got, ok := sameHash(data, b.SHA256); !ok {
		return fmt.Errorf("memory bank %s: hash mismatch: file has sha256 %s, manifest says %s", b.File, got[:12], shortHash(b.SHA256))
	}
	m.bank = DecodeBank(data)
	return nil
}

// EncodeBank is the bank file's content for rows (all of one length).
func EncodeBank(rows [][]float32) []byte {
	if len(rows) == 0 {
		return nil
	}
	out := make([]byte, 0, len(rows)*len(rows[0])*4)
	for _, r := range rows {
		for _, v := range r {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out
}

// DecodeBank reads a bank file's values.
func DecodeBank(data []byte) []float32 {
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// AttachBankRows gives an in-memory manifest its bank (teaching scores its
// held-out strips before anything is written).
func (m *Manifest) AttachBankRows(rows [][]float32) {
	flat := make([]float32, 0, len(rows)*m.Anomaly.Bank.Dim)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	m.bank = flat
}

// anomalyBank is an anomaly engine's memory bank as the backbone takes it.
type anomalyBank struct {
	dim, rows int
	inputs    []ort.Value // bank_t [D,N], bank_sqnorm [N]
}

func newAnomalyBank(flat []float32, rows, dim int) (*anomalyBank, error) {
	t := make([]float32, rows*dim)
	sq := make([]float32, rows)
	for r := range rows {
		var s float64
		for d, v := range flat[r*dim : (r+1)*dim] {
			t[d*rows+r] = v
			s += float64(v) * float64(v)
		}
		sq[r] = float32(s)
	}
	bt, err := ort.NewTensor(ort.NewShape(int64(dim), int64(rows)), t)
	if err != nil {
		return nil, fmt.Errorf("memory bank tensor: %w", err)
	}
	bs, err := ort.NewTensor(ort.NewShape(int64(rows)), sq)
	if err != nil {
		bt.Destroy()
		return nil, fmt.Errorf("memory bank tensor: %w", err)
	}
	return &anomalyBank{dim: dim, rows: rows, inputs: []ort.Value{bt, bs}}, nil
}

func (b *anomalyBank) destroy() error {
	var errs []error
	for _, v := range b.inputs {
		errs = append(errs, v.Destroy())
	}
	return errors.Join(errs...)
}

// Anomaly model graph names besides input.name, output.name and
// output.features.
const (
	anomalyBankInput   = "bank_t"
	anomalyBankSqInput = "bank_sqnorm"
	// OutputDistance is output.kind for an anomaly model's distance map.
	OutputDistance = "distance"
)

// checkAnomalyShapes checks an anomaly model's graph: the image input
// [1,C,H,W] with free height and width, the two bank inputs, the distance
// map [1,rows,cols] and the features [1,D,rows,cols]; it returns D.
func checkAnomalyShapes(m *Manifest, ins, outs []ort.InputOutputInfo) (int, error) {
	byName := map[string]ort.InputOutputInfo{}
	for _, in := range ins {
		byName[in.Name] = in
	}
	if len(ins) != 3 {
		return 0, fmt.Errorf("an anomaly model has 3 inputs (%s, %s, %s), this one %d", m.Input.Name, anomalyBankInput, anomalyBankSqInput, len(ins))
	}
	for _, name := range []string{m.Input.Name, anomalyBankInput, anomalyBankSqInput} {
		in, ok := byName[name]
		if !ok {
			return 0, fmt.Errorf("an anomaly model needs an input named %q", name)
		}
		if in.DataType != ort.TensorElementDataTypeFloat {
			return 0, fmt.Errorf("input %q is %v, the engine feeds float32", name, in.DataType)
		}
	}
	if _, _, err := checkWholeStripShapes(m, byName[m.Input.Name], outs); err != nil {
		return 0, err
	}
	dim, err := checkFeaturesOutput(m, outs)
	if err != nil {
		return 0, err
	}
	if bt := byName[anomalyBankInput].Dimensions; len(bt) != 2 || bt[0] != int64(dim) {
		return 0, fmt.Errorf("input %q has shape %v, want [%d,N]", anomalyBankInput, bt, dim)
	}
	return dim, nil
}

// IsAnomaly reports a model taught on good strips (it scores distances to
// normal steel, not defect classes).
func (m *Manifest) IsAnomaly() bool { return m.Kind == KindAnomaly }

// CellMap is a finer map than the patches: one defect probability per
// Cell×Cell square of the image, row after row. Anomaly models give one.
type CellMap struct {
	Cell   int       `json:"cell"`
	Cols   int       `json:"cols"`
	Rows   int       `json:"rows"`
	Values []float32 `json:"values"`
}

// At is the value of the cell holding pixel (x, y).
func (c *CellMap) At(x, y int) float32 { return c.Values[(y/c.Cell)*c.Cols+x/c.Cell] }

// cellSink receives the features of one band's cells: feats holds D planes
// of rows×cols values (a view into the engine's buffer, valid only during
// the call), dist each cell's distance to the bank; the band's first cell
// covers pixel (x0, y0).
type cellSink func(img int, feats, dist []float32, rows, cols, x0, y0 int)

// scoreAnomaly scores images with an anomaly model, one backbone run per
// band (the bands of a whole-strip model). A patch's distance is the
// largest of its cells' inside the image; the cell map keeps every cell's.
//
// Cyclomatic complexity above 15, kept: the hot loop over bands, cells and patches, kept in one piece so the cell map and the patch maxima come from one pass.
//
//gocyclo:ignore
func (e *Engine) scoreAnomaly(ctx context.Context, imgs []image.Image, sink cellSink) (scored, error) {
	in := e.manifest.Input
	mapping, head := e.manifest.Anomaly.Mapping, e.manifest.Anomaly.Head
	out := scored{rects: make([][]image.Rectangle, len(imgs)), probs: make([][]float32, len(imgs)),
		distances: make([][]float32, len(imgs)), cells: make([]*CellMap, len(imgs))}
	if head != nil && len(head.Classes) > 0 {
		out.classes = make([][]string, len(imgs))
	}
	planes := make([]*pixelPlanes, len(imgs))
	sizes := make([]image.Point, len(imgs))
	var chunks []stripChunk
	for i, img := range imgs {
		b := img.Bounds()
		sizes[i] = b.Size()
		var cs []stripChunk
		out.rects[i], cs = planWholeStrip(i, b.Dx(), b.Dy(), in)
		out.probs[i] = make([]float32, len(out.rects[i]))
		out.distances[i] = make([]float32, len(out.rects[i]))
		if out.classes != nil {
			out.classes[i] = make([]string, len(out.rects[i]))
		}
		cm := &CellMap{Cell: in.Cell, Cols: (b.Dx() + in.Cell - 1) / in.Cell, Rows: (b.Dy() + in.Cell - 1) / in.Cell}
		cm.Values = make([]float32, cm.Cols*cm.Rows)
		for k := range cm.Values {
			cm.Values[k] = float32(math.Inf(-1))
		}
		out.cells[i] = cm
		planes[i] = toPlanes(img, in.Channels)
		chunks = append(chunks, cs...)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return scored{}, errors.New("engine is closed")
	}
	rows := in.PatchSize / in.Cell
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return scored{}, err
		}
		fillRegion(e.buf[:c.width*in.PatchSize*in.Channels], planes[c.img], image.Pt(c.x0, c.y), c.width, in.PatchSize,
			in.Layout, &e.manifest.Preprocessing)
		cols := c.width / in.Cell
		runStart := time.Now()
		outs, err := e.runTensors(c.width, ort.NewShape(1, int64(in.Channels), int64(in.PatchSize), int64(c.width)),
			ort.NewShape(1, int64(rows), int64(cols)), ort.NewShape(1, int64(e.featureDim), int64(rows), int64(cols)))
		out.modelTime += time.Since(runStart)
		if err != nil {
			return scored{}, err
		}
		dist := outs[0]
		if sink != nil {
			sink(c.img, outs[1], dist, rows, cols, c.x0, c.y)
		}
		if head != nil {
			// a station model scores its cells with the learned head
			// instead of their distance to the bank
			head.cellLogits(outs[1], dist, rows*cols, e.headBuf[:rows*cols], e.hiddenBuf)
			dist = e.headBuf[:rows*cols]
		}
		// the band's cells inside the image, into the cell map
		cm, size := out.cells[c.img], sizes[c.img]
		r0, c0 := c.y/in.Cell, c.x0/in.Cell
		for r := 0; r < rows && c.y+r*in.Cell < size.Y; r++ {
			for k := 0; k < cols && c.x0+k*in.Cell < size.X; k++ {
				d := dist[r*cols+k]
				if math.IsNaN(float64(d)) {
					return scored{}, errors.New("model produced NaN")
				}
				at := (r0+r)*cm.Cols + c0 + k
				cm.Values[at] = max(cm.Values[at], d)
			}
		}
		for k, x := range c.xs {
			r := out.rects[c.img][c.patches[k]]
			worst := float32(0)
			if head != nil {
				var top int
				worst, top = e.poolHead(head, dist, r, x, c.x0, c.y, cols)
				if len(head.Classes) > 0 {
					out.classes[c.img][c.patches[k]] = head.classOf(outs[1], rows*cols, top)
				}
			} else {
				for y := r.Min.Y; y < r.Max.Y; y += in.Cell {
					for xx := x; xx < r.Max.X; xx += in.Cell {
						worst = max(worst, dist[((y-c.y)/in.Cell)*cols+(xx-c.x0)/in.Cell])
					}
				}
			}
			out.distances[c.img][c.patches[k]] = worst
			out.probs[c.img][c.patches[k]] = mapping.Probability(float64(worst))
		}
	}
	for _, cm := range out.cells {
		for k, d := range cm.Values {
			cm.Values[k] = mapping.Probability(float64(d))
		}
	}
	return out, nil
}

// CellFeatures runs an anomaly model's backbone on img and returns every
// cell's feature (its bands' cells, in order), for teaching.
func (e *Engine) CellFeatures(ctx context.Context, img image.Image) ([][]float32, error) {
	if !e.manifest.IsAnomaly() {
		return nil, fmt.Errorf("model %q is not an anomaly model", e.manifest.Name)
	}
	var out [][]float32
	sink := func(_ int, feats, _ []float32, rows, cols, _, _ int) {
		plane := rows * cols
		for p := range plane {
			v := make([]float32, e.featureDim)
			for d := range v {
				v[d] = feats[d*plane+p]
			}
			out = append(out, v)
		}
	}
	if _, err := e.scoreAnomaly(ctx, []image.Image{img}, sink); err != nil {
		return nil, err
	}
	return out, nil
}

// CellGrid is every cell's feature laid on the image's grid of Cell×Cell
// squares: the feature of the cell in row r, column c starts at
// Values[(r*Cols+c)*Dim].
type CellGrid struct {
	Cell, Cols, Rows, Dim int
	Values                []float32
	// Distances holds each cell's distance to the engine's bank, row after
	// row (nil where not measured).
	Distances []float32
}

// Feature is the feature of the cell in row r, column c (a view).
func (g *CellGrid) Feature(r, c int) []float32 {
	at := (r*g.Cols + c) * g.Dim
	return g.Values[at : at+g.Dim]
}

// CellGridOf runs an anomaly model's backbone on img and returns its
// cells' features on the image's grid, for learning from masks. A cell
// that two bands cover keeps the last band's feature.
func (e *Engine) CellGridOf(ctx context.Context, img image.Image) (*CellGrid, error) {
	if !e.manifest.IsAnomaly() {
		return nil, fmt.Errorf("model %q is not an anomaly model", e.manifest.Name)
	}
	b := img.Bounds()
	cell := e.manifest.Input.Cell
	g := &CellGrid{Cell: cell, Cols: (b.Dx() + cell - 1) / cell, Rows: (b.Dy() + cell - 1) / cell, Dim: e.featureDim}
	g.Values = make([]float32, g.Cols*g.Rows*g.Dim)
	g.Distances = make([]float32, g.Cols*g.Rows)
	sink := func(_ int, feats, dist []float32, rows, cols, x0, y0 int) {
		plane := rows * cols
		for r := range rows {
			gr := y0/cell + r
			if gr >= g.Rows {
				break
			}
			for c := range cols {
				gc := x0/cell + c
				if gc >= g.Cols {
					break
				}
				v := g.Feature(gr, gc)
				for d := range v {
					v[d] = feats[d*plane+r*cols+c]
				}
				g.Distances[gr*g.Cols+gc] = dist[r*cols+c]
			}
		}
	}
	if _, err := e.scoreAnomaly(ctx, []image.Image{img}, sink); err != nil {
		return nil, err
	}
	return g, nil
}

// AnomalyDistances scores img with an anomaly model and returns each
// patch's raw distance (before the mapping), for fitting the mapping.
func (e *Engine) AnomalyDistances(ctx context.Context, img image.Image) ([]float64, error) {
	if !e.manifest.IsAnomaly() {
		return nil, fmt.Errorf("model %q is not an anomaly model", e.manifest.Name)
	}
	s, err := e.scoreAnomaly(ctx, []image.Image{img}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(s.distances[0]))
	for i, d := range s.distances[0] {
		out[i] = float64(d)
	}
	return out, nil
}

// prepareAnomaly checks an anomaly model's graph and makes its buffers and
// bank tensors.
func (e *Engine) prepareAnomaly(m *Manifest, ins, outs []ort.InputOutputInfo) error {
	dim, err := checkAnomalyShapes(m, ins, outs)
	if err != nil {
		return fmt.Errorf("model %q does not match its manifest: %w", m.Name, err)
	}
	b := m.Anomaly.Bank
	if dim != b.Dim {
		return fmt.Errorf("model %q: its memory bank holds %d-value features, the backbone gives %d", m.Name, b.Dim, dim)
	}
	if len(m.bank) != b.Rows*b.Dim {
		return fmt.Errorf("model %q: its memory bank (%s) was not loaded", m.Name, b.File)
	}
	e.featureDim, e.fixedBatch, e.outputRank = dim, 1, 3
	in := m.Input
	cells := (maxChunkWidth / in.Cell) * (in.PatchSize / in.Cell)
	e.buf = make([]float32, maxChunkWidth*in.PatchSize*in.Channels)
	e.outBufs = [][]float32{make([]float32, cells), make([]float32, dim*cells)}
	if m.Anomaly.Head != nil {
		e.headBuf = make([]float32, cells)
		e.hiddenBuf = make([]float32, cells)
		e.poolBuf = make([]float32, 0, (in.PatchSize/in.Cell)*(in.PatchSize/in.Cell))
	}
	e.bank, err = newAnomalyBank(m.bank, b.Rows, b.Dim)
	return err
}
