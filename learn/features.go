package learn

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/x448/float16"

	"steelinspect/inference"
	"steelinspect/internal/files"
)

// The feature cache keeps every strip's cell features, keyed by the sha256
// of the image file and of the backbone, so learning again after more
// decisions reads them instead of running the backbone: a 1600×256 strip
// is 1,600 cells of 128 half-precision values, 400 KiB.

// cacheMagic opens every cache file (version 1: float16 values).
const cacheMagic = "SIFEAT1\n"

// maxCacheCells bounds a cache file's grid, so a corrupt header cannot ask
// for gigabytes.
const maxCacheCells = 1 << 16

// DefaultCacheDir is where features are kept unless Options.CacheDir says
// otherwise: the user's cache folder, steelinspect/features.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "steelinspect", "features")
}

// featureCache reads and writes cell grids for one backbone.
type featureCache struct {
	dir string // "" keeps nothing
}

func newFeatureCache(root, backboneSHA string) featureCache {
	if root == "" {
		return featureCache{}
	}
	return featureCache{dir: filepath.Join(root, backboneSHA[:16])}
}

func (c featureCache) path(sha string) string {
	return filepath.Join(c.dir, sha[:2], sha+".f16")
}

// load returns the cached grid of the image with this sha256, or nil.
func (c featureCache) load(sha string) *inference.CellGrid {
	if c.dir == "" {
		return nil
	}
	return loadEntry(c.path(sha), decodeGrid)
}

// loadEntry reads and decodes the cache file at path: nil when it is
// missing or damaged (a damaged entry is computed again and replaced).
func loadEntry[T any](path string, decode func([]byte) (*T, error)) *T {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	v, err := decode(data)
	if err != nil {
		return nil
	}
	return v
}

// store keeps g; a cache that cannot be written only costs time.
func (c featureCache) store(sha string, g *inference.CellGrid) error {
	if c.dir == "" {
		return nil
	}
	return storeEntry(c.path(sha), encodeGrid(g))
}

// storeEntry writes a cache file at path, its folder made as needed.
func storeEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return files.WriteAtomic(path, data)
}

func encodeGrid(g *inference.CellGrid) []byte {
	var b bytes.Buffer
	b.WriteString(cacheMagic)
	for _, v := range []uint32{uint32(g.Cell), uint32(g.Cols), uint32(g.Rows), uint32(g.Dim)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	out := b.Bytes()
	for _, v := range g.Values {
		out = binary.LittleEndian.AppendUint16(out, float16.Fromfloat32(v).Bits())
	}
	return out
}

// cacheHeader reads a cache file's magic and its four numbers, and returns
// them with the body after them; what names the kind of file in errors.
func cacheHeader(data []byte, magic, what string) (h [4]uint32, body []byte, err error) {
	r := bytes.NewReader(data)
	got := make([]byte, len(magic))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != magic {
		return h, nil, fmt.Errorf("not a %s file", what)
	}
	if err := binary.Read(r, binary.LittleEndian, &h); err != nil {
		return h, nil, err
	}
	return h, data[len(data)-r.Len():], nil
}

func decodeGrid(data []byte) (*inference.CellGrid, error) {
	h, body, err := cacheHeader(data, cacheMagic, "feature cache")
	if err != nil {
		return nil, err
	}
	g := &inference.CellGrid{Cell: int(h[0]), Cols: int(h[1]), Rows: int(h[2]), Dim: int(h[3])}
	if g.Cols < 1 || g.Rows < 1 || g.Cols*g.Rows > maxCacheCells || g.Dim < 1 || g.Dim > 4096 {
		return nil, errors.New("feature cache file has an impossible grid")
	}
	n := g.Cols * g.Rows * g.Dim
	if len(body) != 2*n {
		return nil, fmt.Errorf("feature cache file holds %d bytes, want %d", len(body), 2*n)
	}
	g.Values = make([]float32, n)
	for i := range g.Values {
		g.Values[i] = float16.Frombits(binary.LittleEndian.Uint16(body[2*i:])).Float32()
	}
	return g, nil
}

// featured is one example with its cell grid and, once measured, each
// cell's distance to a good-steel bank that never held it.
type featured struct {
	Example
	sha  string
	grid *halfGrid
	dist []float32
	// stats are the image's plausibility statistics when it was decoded
	// (nil when its features came from the cache).
	stats *inference.ImageStats
}

// halfGrid is a strip's cell features kept in half precision, as the
// cache keeps them: a 1600×256 strip holds 400 KiB, not 800.
//
// It also holds a strip's window features (package learn's windows.go):
// one row of cols windows, cell 0.
type halfGrid struct {
	cell, cols, rows, dim int
	// width and height are the strip's size in pixels
	width, height int
	bits          []uint16
}

func toHalf(g *inference.CellGrid) *halfGrid {
	h := &halfGrid{cell: g.Cell, cols: g.Cols, rows: g.Rows, dim: g.Dim, width: g.Cols * g.Cell, height: g.Rows * g.Cell,
		bits: make([]uint16, len(g.Values))}
	for i, v := range g.Values {
		h.bits[i] = float16.Fromfloat32(v).Bits()
	}
	return h
}

// cells is the number of cells.
func (h *halfGrid) cells() int { return h.cols * h.rows }

// appendFeature appends cell i's feature to out.
func (h *halfGrid) appendFeature(out []float32, i int) []float32 {
	for _, b := range h.bits[i*h.dim : (i+1)*h.dim] {
		out = append(out, float16.Frombits(b).Float32())
	}
	return out
}

// feature is cell i's feature (a fresh slice).
func (h *halfGrid) feature(i int) []float32 { return h.appendFeature(make([]float32, 0, h.dim), i) }

// rowDim is the length of row: the feature, and the distance when known.
func (s *featured) rowDim() int {
	if s.dist != nil {
		return s.grid.dim + 1
	}
	return s.grid.dim
}

// row is what the head sees of cell i (a fresh slice).
func (s *featured) row(i int) []float32 {
	out := s.grid.appendFeature(make([]float32, 0, s.rowDim()), i)
	if s.dist != nil {
		out = append(out, s.dist[i])
	}
	return out
}

// gridSource gives strips their features: load reads a strip's from the
// cache (nil when it holds none), compute runs the model on the decoded
// strip and keeps what it computed in the cache.
type gridSource struct {
	load    func(sha string) *halfGrid
	compute func(ctx context.Context, sha string, img image.Image) (*halfGrid, error)
}

// cellSource gives strips their cell grids from e, an anomaly backbone,
// kept in cache.
func cellSource(e *inference.Engine, cache featureCache) gridSource {
	return gridSource{
		load: func(sha string) *halfGrid {
			if g := cache.load(sha); g != nil {
				return toHalf(g)
			}
			return nil
		},
		compute: func(ctx context.Context, sha string, img image.Image) (*halfGrid, error) {
			g, err := e.CellGridOf(ctx, img)
			if err != nil {
				return nil, err
			}
			// half precision, as the cache keeps them: a strip learns the
			// same whether its features were just computed or read back
			_ = cache.store(sha, g)
			return toHalf(g), nil
		},
	}
}

// extract gives every example its features, from the cache or the model.
// Unreadable and implausible files are skipped with their reason; cached
// says how many came from the cache.
func extract(ctx context.Context, src gridSource, xs []Example, prog func(done, total int)) (out []featured, skipped []Skipped, cached int, err error) {
	for i, x := range xs {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		prog(i+1, len(xs))
		data, err := inference.ReadImageFile(x.Path)
		if err != nil {
			skipped = append(skipped, Skipped{x.Path, err.Error()})
			continue
		}
		sha := inference.SHA256Hex(data)
		if g := src.load(sha); g != nil {
			out = append(out, featured{Example: x, sha: sha, grid: g})
			cached++
			continue
		}
		d, err := inference.DecodeImage(data, 0)
		if err != nil {
			skipped = append(skipped, Skipped{x.Path, err.Error()})
			continue
		}
		// the line's texture is not known yet: only what no steel shows is
		// left out here, the rest beside the line's other good strips
		// (measureLine)
		if reason := inference.ImplausibleReason(d.Width, d.Height, d.Stats, inference.UnknownLine); reason != "" {
			skipped = append(skipped, Skipped{x.Path, "not usable steel: " + reason})
			continue
		}
		g, err := src.compute(ctx, sha, d.Image)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, 0, ctx.Err()
			}
			skipped = append(skipped, Skipped{x.Path, err.Error()})
			continue
		}
		out = append(out, featured{Example: x, sha: sha, grid: g, stats: &d.Stats})
	}
	return out, skipped, cached, nil
}

// halfPrecision rounds v to float16, as the cache keeps values.
func halfPrecision(v []float32) {
	for i, x := range v {
		v[i] = float16.Fromfloat32(x).Float32()
	}
}

// decodeFile reads and decodes an image file with the engine's limits.
func decodeFile(path string) (inference.DecodedImage, error) {
	data, err := inference.ReadImageFile(path)
	if err != nil {
		return inference.DecodedImage{}, err
	}
	return inference.DecodeImage(data, 0)
}

// maxTextureStrips bounds the defect-free strips whose texture is
// measured for the line (an even sample by hash past it): a strip whose
// features came from the cache is decoded again for it.
const maxTextureStrips = 1000

// measureLine measures the texture of the defect-free strips (the line's
// good steel) into rep.Texture, and leaves out, with their reason, those
// with no steel texture beside the others (inference.FitLineTexture).
func measureLine(ctx context.Context, strips []featured, rep *Report, prog func(done, total int)) ([]featured, error) {
	var good []int
	for i, s := range strips {
		if !s.Defective {
			good = append(good, i)
		}
	}
	if len(good) > maxTextureStrips {
		slices.SortFunc(good, func(a, b int) int { return cmp.Compare(sampleKey(strips[a].Path), sampleKey(strips[b].Path)) })
		good = good[:maxTextureStrips]
	}
	stats := make([]inference.ImageStats, 0, len(good))
	measured := make([]int, 0, len(good))
	for k, i := range good {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prog(k+1, len(good))
		if strips[i].stats == nil {
			d, err := decodeFile(strips[i].Path)
			if err != nil {
				continue // its features were read; it is left to them
			}
			strips[i].stats = &d.Stats
		}
		stats = append(stats, *strips[i].stats)
		measured = append(measured, i)
	}
	line, outlier := inference.FitLineTexture(stats)
	rep.Texture = line
	drop := map[int]bool{}
	for k, i := range measured {
		if outlier[k] {
			drop[i] = true
			rep.Skipped = append(rep.Skipped, Skipped{strips[i].Path, fmt.Sprintf("not usable steel: no steel texture beside the other defect-free strips (texture %.3f, theirs %.2f and above for 95 %% of them)",
				stats[k].Texture.Score, line.P05)})
		}
	}
	if len(drop) == 0 {
		return strips, nil
	}
	kept := strips[:0]
	for i, s := range strips {
		if !drop[i] {
			kept = append(kept, s)
		}
	}
	return kept, nil
}
