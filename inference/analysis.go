package inference

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"steelinspect/internal/files"
	"steelinspect/verdict"
)

// MaxFileBytes bounds the size of an image file the engine reads.
const MaxFileBytes = 256 << 20

// Analysis is what inference produces for one image, before any threshold
// is applied. Deciding is cheap and done separately (Decide), so a threshold
// change re-decides without inferring again.
type Analysis struct {
	Source  string                `json:"path"`
	Image   verdict.ImageInfo     `json:"image"`
	Patches []verdict.Patch       `json:"patches"`
	Model   verdict.ModelIdentity `json:"model"`
	Timings verdict.Timings       `json:"timings_ms"`
	// Familiarity is how familiar the strip is to the model; nil for a
	// model without familiarity statistics.
	Familiarity *verdict.StripFamiliarity `json:"familiarity,omitempty"`
	// Cautions are why the strip must go to a person whatever its
	// probabilities: an implausible image, an unfamiliar strip.
	Cautions []verdict.Caution `json:"cautions,omitempty"`
	// Cells is a finer map than the patches (an anomaly model's: one
	// probability per feature cell); nil for a model that gives none.
	// Records leave it out; the window draws it.
	Cells *CellMap `json:"-"`
	// Decoded is the oriented image that was scored, for display.
	Decoded DecodedImage `json:"-"`
}

// Decide applies the thresholds to this analysis: its probabilities and
// its cautions (see the package-level Decide).
func (a *Analysis) Decide(t verdict.Thresholds) (verdict.Verdict, error) {
	return verdict.Decide(a.Probabilities(), t, a.Cautions)
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
	return e.AnalyzePrepared(ctx, e.PrepareFile(path))
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
		out[i], errs[i] = e.decode(names[i], d)
		if errs[i] == nil {
			imgs = append(imgs, out[i].Decoded.Image)
			ok = append(ok, i)
		}
	}
	decodeDone := time.Now()
	if len(imgs) == 0 {
		return out, errs
	}
	s, err := e.scoreMany(ctx, imgs)
	end := time.Now()
	for k, i := range ok {
		if err != nil {
			out[i], errs[i] = Analysis{}, err
			continue
		}
		out[i].fill(e, s, k, verdict.Timings{
			DecodeMS:    ms(decodeDone.Sub(start)),
			InferenceMS: ms(end.Sub(decodeDone)),
			ModelMS:     ms(s.modelTime),
			TotalMS:     ms(end.Sub(start)),
		})
	}
	return out, errs
}

// decode decodes one image and fills everything of its Analysis but the
// scores, the plausibility check of the image included.
func (e *Engine) decode(name string, data []byte) (Analysis, error) {
	decoded, err := DecodeImage(data, e.maxPixels)
	if err != nil {
		return Analysis{}, err
	}
	a := Analysis{
		Source: name,
		Image: verdict.ImageInfo{Width: decoded.Width, Height: decoded.Height, Format: decoded.Format,
			Bytes: len(data), SHA256: SHA256Hex(data)},
		Model:   e.manifest.Identity(),
		Decoded: decoded,
	}
	if reason := ImplausibleReason(decoded.Width, decoded.Height, decoded.Stats, e.manifest.Texture); reason != "" {
		a.Cautions = append(a.Cautions, verdict.Caution{Kind: verdict.CautionImplausible, Reason: reason})
	}
	return a, nil
}

// fill takes image k's scores from s, its familiarity included.
func (a *Analysis) fill(e *Engine, s scored, k int, t verdict.Timings) {
	a.Timings = t
	a.Patches = make([]verdict.Patch, len(s.rects[k]))
	for j, r := range s.rects[k] {
		a.Patches[j] = verdict.Patch{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy(), Probability: s.probs[k][j]}
		if s.classes != nil {
			a.Patches[j].Class = s.classes[k][j]
		}
		if s.familiarity != nil {
			f := float32(round3(float64(s.familiarity[k][j])))
			a.Patches[j].Familiarity = &f
		}
	}
	if s.cells != nil {
		a.Cells = s.cells[k]
	}
	if s.familiarity != nil {
		a.Familiarity = stripFamiliarity(s.familiarity[k], e.manifest.Familiarity.Limit)
		if s.domain != nil && a.Familiarity != nil {
			addDomain(a.Familiarity, s.domain[k], e.familiarity.Domain)
		}
		if a.Familiarity != nil && a.Familiarity.Unfamiliar {
			a.Cautions = append(a.Cautions, verdict.Caution{Kind: verdict.CautionUnfamiliar, Reason: unfamiliarReason(a.Familiarity, e.familiarity.Domain)})
		}
	}
}

// Prepared is an image file read and decoded, not yet scored. Preparing
// does not touch the model, so a batch prepares the next file while the
// current one is being scored (see Pipeline).
type Prepared struct {
	analysis Analysis
	err      error
	decodeMS float64
}

// Name is the file the image came from.
func (p *Prepared) Name() string { return p.analysis.Source }

// PrepareFile reads and decodes one image file. It is safe to call while
// the engine is scoring another image.
func (e *Engine) PrepareFile(path string) Prepared {
	start := time.Now()
	data, err := ReadImageFile(path)
	if err != nil {
		return Prepared{analysis: Analysis{Source: path}, err: err}
	}
	a, err := e.decode(path, data)
	if err != nil {
		return Prepared{analysis: Analysis{Source: path}, err: err}
	}
	return Prepared{analysis: a, decodeMS: ms(time.Since(start))}
}

// AnalyzePrepared scores a prepared image (or returns the error preparing
// it met). Timings count its decoding and its scoring, not the time it
// waited in between.
func (e *Engine) AnalyzePrepared(ctx context.Context, p Prepared) (Analysis, error) {
	if p.err != nil {
		return Analysis{}, p.err
	}
	start := time.Now()
	s, err := e.scoreMany(ctx, []image.Image{p.analysis.Decoded.Image})
	if err != nil {
		return Analysis{}, err
	}
	inf := ms(time.Since(start))
	a := p.analysis
	a.Cautions = slices.Clone(a.Cautions)
	a.fill(e, s, 0, verdict.Timings{DecodeMS: p.decodeMS, InferenceMS: inf, ModelMS: ms(s.modelTime), TotalMS: p.decodeMS + inf})
	return a, nil
}

// Pipeline prepares paths one ahead of the caller: while the caller scores
// one image, the next is read and decoded. The channel yields one Prepared
// per path, in order, and is closed after the last or when ctx ends.
func (e *Engine) Pipeline(ctx context.Context, paths []string) <-chan Prepared {
	ch := make(chan Prepared, 1)
	go func() {
		defer close(ch)
		for _, p := range paths {
			// select picks at random when a send and the cancellation are
			// both ready, so cancellation is checked first: once it is seen,
			// nothing more is decoded or delivered.
			if ctx.Err() != nil {
				return
			}
			prep := e.PrepareFile(p)
			if ctx.Err() != nil {
				return
			}
			select {
			case ch <- prep:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ReadImageFile reads a regular file of at most MaxFileBytes. Anything
// else (a folder, a named pipe, a device, a socket) is refused at once: it
// is opened without blocking, so a FIFO with no writer cannot hold the
// caller.
func ReadImageFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open: %w", unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	if err := RegularFileError(st.Mode(), "an image file"); err != nil {
		return nil, err
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

// RegularFileError is files.RegularFileError: why a file of the given
// mode cannot be read as what; nil for a regular file.
func RegularFileError(mode os.FileMode, what string) error { return files.RegularFileError(mode, what) }

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
