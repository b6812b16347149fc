package inference

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"os"
	"time"
)

// MaxFileBytes bounds the size of an image file the engine reads.
const MaxFileBytes = 256 << 20

// ImageInfo describes the analysed image file.
type ImageInfo struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Patch is one scored patch: its place in the image and its probability.
type Patch struct {
	X           int     `json:"x"`
	Y           int     `json:"y"`
	W           int     `json:"w"`
	H           int     `json:"h"`
	Probability float32 `json:"probability"`
}

// Timings of one analysis, in milliseconds. Inference covers tiling,
// preprocessing and the model; Model is the part spent in ONNX Runtime.
// When several images are scored together they share these figures.
type Timings struct {
	DecodeMS    float64 `json:"decode"`
	InferenceMS float64 `json:"inference"`
	ModelMS     float64 `json:"model"`
	TotalMS     float64 `json:"total"`
}

// Analysis is what inference produces for one image, before any threshold
// is applied. Deciding is cheap and done separately (Decide), so a threshold
// change re-decides without inferring again.
type Analysis struct {
	Source  string        `json:"path"`
	Image   ImageInfo     `json:"image"`
	Patches []Patch       `json:"patches"`
	Model   ModelIdentity `json:"model"`
	Timings Timings       `json:"timings_ms"`
	// Decoded is the oriented image that was scored, for display.
	Decoded DecodedImage `json:"-"`
}

// Probabilities returns the patch probabilities in patch order.
func (a *Analysis) Probabilities() []float32 {
	p := make([]float32, len(a.Patches))
	for i, patch := range a.Patches {
		p[i] = patch.Probability
	}
	return p
}

// AnalyzeFile reads, decodes and scores one image file.
func (e *Engine) AnalyzeFile(ctx context.Context, path string) (Analysis, error) {
	start := time.Now()
	data, err := readImageFile(path)
	if err != nil {
		return Analysis{}, err
	}
	return e.analyze(ctx, path, data, start)
}

// AnalyzeBytes decodes and scores an image held in memory; name says where
// it came from.
func (e *Engine) AnalyzeBytes(ctx context.Context, name string, data []byte) (Analysis, error) {
	return e.analyze(ctx, name, data, time.Now())
}

func (e *Engine) analyze(ctx context.Context, name string, data []byte, start time.Time) (Analysis, error) {
	out, errs := e.analyzeMany(ctx, []string{name}, [][]byte{data}, start)
	return out[0], errs[0]
}

// AnalyzeBatch decodes and scores several images, sharing model runs
// between them. Each image gets its own Analysis or error; one bad image
// does not fail the others.
func (e *Engine) AnalyzeBatch(ctx context.Context, names []string, data [][]byte) ([]Analysis, []error) {
	return e.analyzeMany(ctx, names, data, time.Now())
}

func (e *Engine) analyzeMany(ctx context.Context, names []string, data [][]byte, start time.Time) ([]Analysis, []error) {
	out := make([]Analysis, len(data))
	errs := make([]error, len(data))
	var imgs []image.Image
	var ok []int
	for i, d := range data {
		decoded, err := DecodeImage(d, e.maxPixels)
		if err != nil {
			errs[i] = err
			continue
		}
		sum := sha256.Sum256(d)
		out[i] = Analysis{
			Source: names[i],
			Image: ImageInfo{Width: decoded.Width, Height: decoded.Height, Format: decoded.Format,
				Bytes: len(d), SHA256: hex.EncodeToString(sum[:])},
			Model:   e.manifest.Identity(),
			Decoded: decoded,
		}
		imgs = append(imgs, decoded.Image)
		ok = append(ok, i)
	}
	decodeDone := time.Now()
	if len(imgs) == 0 {
		return out, errs
	}
	rects, probs, modelTime, err := e.scoreMany(ctx, imgs)
	end := time.Now()
	for k, i := range ok {
		if err != nil {
			out[i], errs[i] = Analysis{}, err
			continue
		}
		a := &out[i]
		a.Timings = Timings{
			DecodeMS:    ms(decodeDone.Sub(start)),
			InferenceMS: ms(end.Sub(decodeDone)),
			ModelMS:     ms(modelTime),
			TotalMS:     ms(end.Sub(start)),
		}
		a.Patches = make([]Patch, len(rects[k]))
		for j, r := range rects[k] {
			a.Patches[j] = Patch{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy(), Probability: probs[k][j]}
		}
	}
	return out, errs
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// readImageFile reads a regular file of at most MaxFileBytes.
func readImageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open: %w", unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("is a folder, not an image file")
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("file is %d MB, above the limit of %d MB", st.Size()>>20, MaxFileBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	return data, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
