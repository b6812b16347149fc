package inference

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// Timings of one analysis, in milliseconds.
type Timings struct {
	DecodeMS    float64 `json:"decode"`
	InferenceMS float64 `json:"inference"`
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
	decoded, err := DecodeImage(data, e.maxPixels)
	if err != nil {
		return Analysis{}, err
	}
	decodeDone := time.Now()
	rects, probs, err := e.Score(ctx, decoded.Image)
	if err != nil {
		return Analysis{}, err
	}
	end := time.Now()
	sum := sha256.Sum256(data)
	a := Analysis{
		Source: name,
		Image: ImageInfo{Width: decoded.Width, Height: decoded.Height, Format: decoded.Format,
			Bytes: len(data), SHA256: hex.EncodeToString(sum[:])},
		Patches: make([]Patch, len(rects)),
		Model:   e.manifest.Identity(),
		Timings: Timings{
			DecodeMS:    ms(decodeDone.Sub(start)),
			InferenceMS: ms(end.Sub(decodeDone)),
			TotalMS:     ms(end.Sub(start)),
		},
		Decoded: decoded,
	}
	for i, r := range rects {
		a.Patches[i] = Patch{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy(), Probability: probs[i]}
	}
	return a, nil
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
