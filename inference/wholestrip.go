package inference

import (
	"context"
	"errors"
	"fmt"
	"image"
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

// scoreWholeStrips scores images with a whole-strip model: the backbone
// runs once per band instead of once per overlapping patch.
func (e *Engine) scoreWholeStrips(ctx context.Context, imgs []image.Image) ([][]image.Rectangle, [][]float32, time.Duration, error) {
	in := e.manifest.Input
	rects := make([][]image.Rectangle, len(imgs))
	probs := make([][]float32, len(imgs))
	planes := make([]*pixelPlanes, len(imgs))
	var chunks []stripChunk
	for i, img := range imgs {
		b := img.Bounds()
		var cs []stripChunk
		rects[i], cs = planWholeStrip(i, b.Dx(), b.Dy(), in)
		probs[i] = make([]float32, len(rects[i]))
		planes[i] = toPlanes(img, in.Channels)
		chunks = append(chunks, cs...)
	}

	var modelTime time.Duration
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return nil, nil, 0, errors.New("engine is closed")
	}
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		fillRegion(e.buf[:c.width*in.PatchSize*in.Channels], planes[c.img], image.Pt(c.x0, c.y), c.width, in.PatchSize,
			in.Layout, &e.manifest.Preprocessing)
		runStart := time.Now()
		scores, err := e.runChunk(c.width)
		modelTime += time.Since(runStart)
		if err != nil {
			return nil, nil, 0, err
		}
		for k, x := range c.xs {
			prob, err := e.patchProbability(scores[(x-c.x0)/in.Cell : (x-c.x0)/in.Cell+1])
			if err != nil {
				return nil, nil, 0, fmt.Errorf("window at %d,%d: %w", x, c.y, err)
			}
			probs[c.img][c.patches[k]] = prob
		}
	}
	return rects, probs, modelTime, nil
}

// runChunk feeds one band of the given width (in e.buf) to a whole-strip
// model and returns its row of window scores. Tensors are kept per width.
func (e *Engine) runChunk(width int) ([]float32, error) {
	in := e.manifest.Input
	ps, w, ch := int64(in.PatchSize), int64(width), int64(in.Channels)
	shape := ort.NewShape(1, ch, ps, w)
	if in.Layout == "NHWC" {
		shape = ort.NewShape(1, ps, w, ch)
	}
	return e.runTensors(width, shape, ort.NewShape(1, 1, int64(chunkWindows(width, in))))
}
