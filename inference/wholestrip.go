package inference

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// maxChunkWidth bounds the width of one whole-strip run: a 1600-px strip
// goes through the backbone in one piece; wider images are cut into
// overlapping bands so that memory stays bounded whatever the image size.
const maxChunkWidth = 2048

// chunkWindows is the number of windows a whole-strip run of the given
// width returns: one per cell step.
func chunkWindows(width int, in InputSpec) int { return (width-in.PatchSize)/in.Cell + 1 }

// alignUp rounds v up to a multiple of cell.
func alignUp(v, cell int) int { return (v + cell - 1) / cell * cell }

// checkWholeStripShapes checks a whole-strip model: input [N|1, C, H, W]
// (or NHWC) with free height and width, output [N|1, rows, cols].
func checkWholeStripShapes(m *Manifest, in ort.InputOutputInfo, outs []ort.InputOutputInfo) (batch, outRank int, err error) {
	ch := int64(m.Input.Channels)
	chAxis, spatial := 1, []int{2, 3}
	if m.Input.Layout == "NHWC" {
		chAxis, spatial = 3, []int{1, 2}
	}
	if len(in.Dimensions) != 4 || (in.Dimensions[chAxis] != ch && in.Dimensions[chAxis] > 0) {
		return 0, 0, fmt.Errorf("input %q has shape %v, a whole-strip %s model with %d channel(s) needs 4 dimensions",
			in.Name, in.Dimensions, m.Input.Layout, ch)
	}
	for _, a := range spatial {
		if in.Dimensions[a] > 0 {
			return 0, 0, fmt.Errorf("input %q has fixed size %v: a whole-strip model needs free height and width", in.Name, in.Dimensions)
		}
	}
	if d := in.Dimensions[0]; d > 1 {
		return 0, 0, fmt.Errorf("input %q has batch %d: a whole-strip model is run one strip at a time", in.Name, d)
	}
	out, err := findOutput(m, outs)
	if err != nil {
		return 0, 0, err
	}
	if len(out.Dimensions) != 3 {
		return 0, 0, fmt.Errorf("output %q has shape %v, a whole-strip model returns a score map [N,rows,cols]", out.Name, out.Dimensions)
	}
	return 1, 3, nil
}

// checkFeaturesOutput checks the features output a whole-strip manifest
// names, [1, D, rows, cols] with a fixed D, and returns D (0 when the
// manifest names none).
func checkFeaturesOutput(m *Manifest, outs []ort.InputOutputInfo) (int, error) {
	name := m.Output.Features
	if name == "" {
		return 0, nil
	}
	o, err := floatOutput(outs, name, "the window features")
	if err != nil {
		return 0, err
	}
	if len(o.Dimensions) != 4 || o.Dimensions[1] <= 0 || o.Dimensions[1] > 1<<16 {
		return 0, fmt.Errorf("output %q has shape %v, window features need [1,D,rows,cols] with a fixed D", name, o.Dimensions)
	}
	return int(o.Dimensions[1]), nil
}

// floatOutput finds the model's output called name, which must be
// float32; what says what the output is for, in the error.
func floatOutput(outs []ort.InputOutputInfo, name, what string) (ort.InputOutputInfo, error) {
	for _, o := range outs {
		if o.Name != name {
			continue
		}
		if o.DataType != ort.TensorElementDataTypeFloat {
			return o, fmt.Errorf("output %q is %v, want float32", name, o.DataType)
		}
		return o, nil
	}
	return ort.InputOutputInfo{}, fmt.Errorf("no output named %q for %s", name, what)
}

// stripChunk is one whole-strip run: a band PatchSize high starting at y,
// from x0 to x0+width, scoring the windows that start at xs.
type stripChunk struct {
	img     int
	y, x0   int
	width   int
	xs      []int
	patches []int // index of each window's patch in its image
}

// planWholeStrip lays the engine's tiling of a w×h image onto the model's
// cell grid and groups the windows into runs. Window origins are the
// TilePatches origins rounded up to the grid (the last, flush patch of a
// side that is not a multiple of the cell moves right by less than a cell
// and its window reaches into the edge padding), so every pixel is still
// covered and a 1600×256 strip keeps exactly the per-patch tiling.
func planWholeStrip(img, w, h int, in InputSpec) ([]image.Rectangle, []stripChunk) {
	tiles := TilePatches(w, h, in.PatchSize, in.Stride)
	rects := make([]image.Rectangle, len(tiles))
	var chunks []stripChunk
	for i, t := range tiles {
		x, y := alignUp(t.Min.X, in.Cell), alignUp(t.Min.Y, in.Cell)
		rects[i] = image.Rect(x, y, min(x+in.PatchSize, w), min(y+in.PatchSize, h))
		n := len(chunks)
		if n > 0 && chunks[n-1].y == y && x+in.PatchSize-chunks[n-1].x0 <= maxChunkWidth {
			c := &chunks[n-1]
			c.xs = append(c.xs, x)
			c.patches = append(c.patches, i)
			c.width = x + in.PatchSize - c.x0
			continue
		}
		chunks = append(chunks, stripChunk{img: img, y: y, x0: x, width: in.PatchSize, xs: []int{x}, patches: []int{i}})
	}
	return rects, chunks
}

// featureSinks receive, when not nil, what a whole-strip run computes
// besides the scores, as views into the engine's buffers valid only during
// the call: patch, the window features of one scored patch (Dim values
// stride apart); domain, one band's validated-domain vector and the
// band's width.
type featureSinks struct {
	patch  func(img, patch int, feats []float32, stride int)
	domain func(img int, vec []float32, width int)
}

// addBandDomain adds one band's validated-domain vector to its image's
// score, and hands it to the domain sink when one is asked for.
func (e *Engine) addBandDomain(out *scored, c stripChunk, vec []float32, sinks featureSinks) {
	out.domain[c.img].add(e.familiarity.Domain.Score(vec), c.width)
	if sinks.domain != nil {
		sinks.domain(c.img, vec, c.width)
	}
}

// scoreWholeStrips scores images with a whole-strip model: the backbone
// runs once per band instead of once per overlapping patch. When the model
// has a features output, each patch's familiarity score is computed from
// the same run (and its features handed to the sinks, when asked).
func (e *Engine) scoreWholeStrips(ctx context.Context, imgs []image.Image, sinks featureSinks) (scored, error) {
	in := e.manifest.Input
	out := scored{rects: make([][]image.Rectangle, len(imgs)), probs: make([][]float32, len(imgs))}
	if e.familiarity != nil {
		out.familiarity = make([][]float32, len(imgs))
	}
	if e.domainDim > 0 {
		out.domain = make([]domainScore, len(imgs))
	}
	if h := e.manifest.WindowHead; h != nil && len(h.Classes) > 0 {
		out.classes = make([][]string, len(imgs))
	}
	planes := make([]*pixelPlanes, len(imgs))
	var chunks []stripChunk
	for i, img := range imgs {
		b := img.Bounds()
		var cs []stripChunk
		out.rects[i], cs = planWholeStrip(i, b.Dx(), b.Dy(), in)
		out.probs[i] = make([]float32, len(out.rects[i]))
		if out.familiarity != nil {
			out.familiarity[i] = make([]float32, len(out.rects[i]))
		}
		if out.classes != nil {
			out.classes[i] = make([]string, len(out.rects[i]))
		}
		planes[i] = toPlanes(img, in.Channels)
		chunks = append(chunks, cs...)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return scored{}, errors.New("engine is closed")
	}
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return scored{}, err
		}
		fillRegion(e.buf[:c.width*in.PatchSize*in.Channels], planes[c.img], image.Pt(c.x0, c.y), c.width, in.PatchSize,
			in.Layout, &e.manifest.Preprocessing)
		runStart := time.Now()
		scores, feats, domain, err := e.runChunk(c.width)
		out.modelTime += time.Since(runStart)
		if err != nil {
			return scored{}, err
		}
		if domain != nil {
			e.addBandDomain(&out, c, domain, sinks)
		}
		if err := e.scoreBandWindows(&out, c, scores, feats, sinks); err != nil {
			return scored{}, err
		}
	}
	return out, nil
}

// scoreBandWindows fills out with what one band's run gives each of its
// scored windows: its probability and, from its features when the model
// has them, its class, its familiarity and the sinks' share.
func (e *Engine) scoreBandWindows(out *scored, c stripChunk, scores, feats []float32, sinks featureSinks) error {
	in := e.manifest.Input
	cols := chunkWindows(c.width, in)
	for k, x := range c.xs {
		col := (x - c.x0) / in.Cell
		patch := c.patches[k]
		prob, err := e.windowProbability(scores, feats, col, cols)
		if err != nil {
			return fmt.Errorf("window at %d,%d: %w", x, c.y, err)
		}
		out.probs[c.img][patch] = prob
		if feats == nil {
			continue
		}
		if out.classes != nil {
			out.classes[c.img][patch] = e.manifest.WindowHead.classOf(feats[col:], cols, 0)
		}
		if out.familiarity != nil {
			out.familiarity[c.img][patch] = float32(e.familiarity.WindowScore(feats[col:], cols))
		}
		if sinks.patch != nil {
			sinks.patch(c.img, patch, feats[col:], cols)
		}
	}
	return nil
}

// windowProbability is the probability of the window at column col of a
// band's cols windows: the model's own score, or, for a station model
// with a window head, the head's logit of the window's features, mapped.
func (e *Engine) windowProbability(scores, feats []float32, col, cols int) (float32, error) {
	h := e.manifest.WindowHead
	if h == nil {
		return e.patchProbability(scores[col : col+1])
	}
	logit := h.windowLogit(feats[col:], cols)
	if math.IsNaN(logit) {
		return 0, errors.New("model produced NaN")
	}
	return h.Mapping.Probability(logit), nil
}

// runChunk feeds one band of the given width (in e.buf) to a whole-strip
// model and returns its row of window scores and, for a model with a
// features output, the window features [D, 1, cols] (nil otherwise), and
// for a model with a domain check, the band's image-level features (nil
// otherwise). Tensors are kept per width.
func (e *Engine) runChunk(width int) (scores, feats, domain []float32, err error) {
	in := e.manifest.Input
	ps, w, ch := int64(in.PatchSize), int64(width), int64(in.Channels)
	shape := ort.NewShape(1, ch, ps, w)
	if in.Layout == "NHWC" {
		shape = ort.NewShape(1, ps, w, ch)
	}
	cols := int64(chunkWindows(width, in))
	outShapes := []ort.Shape{ort.NewShape(1, 1, cols)}
	if e.featureDim > 0 {
		outShapes = append(outShapes, ort.NewShape(1, int64(e.featureDim), 1, cols))
	}
	if e.domainDim > 0 {
		outShapes = append(outShapes, ort.NewShape(1, int64(e.domainDim)))
	}
	outs, err := e.runTensors(width, shape, outShapes...)
	if err != nil {
		return nil, nil, nil, err
	}
	if e.featureDim > 0 {
		feats = outs[1]
	}
	if e.domainDim > 0 {
		domain = outs[len(outs)-1]
	}
	return outs[0], feats, domain, nil
}
