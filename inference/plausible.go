package inference

import (
	"fmt"
	"image"
	"math"
)

// Plausibility: checks of the image itself, before any model sees it, for
// what a strip camera never produces when it works: a black or saturated
// frame, an almost uniform one, an image too small to hold steel texture,
// an aspect ratio no strip camera gives, a colour picture (strip cameras
// are grey), or a frame with no steel texture in it (texture.go: grey with
// sensor noise, a failing sensor's stripes, a smooth gradient). Each is a
// camera or feed problem, not steel, so the strip goes to a person with
// the reason, whatever the model; the model's scores are still computed
// and shown.
//
// The limits leave a wide margin around every real and synthetic strip we
// have: the darkest real Severstal strip has a mean of 7.7 and a 99th
// percentile of 36; the flattest strip of either held-out set a standard
// deviation of 4.6; the least textured real Severstal strip scores 8.7
// times the texture floor, frames with no steel at most 0.52 of it
// (texture.go). Clean cold-rolled steel can be smoother than either floor
// (a spread under 2): a model taught or learned on its line
// (Manifest.Texture) judges uniformity and texture against that line's
// own good strips instead.
const (
	// MinStripSide is the smallest side, in pixels, that can show steel texture.
	MinStripSide = 64
	// MaxStripAspect is the largest ratio of the long side to the short one.
	MaxStripAspect = 32
	blackP99       = 16  // 99 % of pixels at or below this grey level: no light
	saturatedLevel = 250 // a pixel at or above this is clipped
	saturatedShare = 0.5 // more than this share clipped: overexposed
	uniformStd     = 2.0 // grey-level standard deviation below this: nothing imaged
	colourChroma   = 12  // mean |R−G|+|G−B| above this: a colour picture, not a grey strip camera's
	plausibleProbe = 65536
)

// ImageStats are the grey-level statistics the plausibility checks use,
// measured on an even sample of at most about 65,000 pixels.
type ImageStats struct {
	Mean           float64 `json:"mean"`
	Std            float64 `json:"std"`
	P1             float64 `json:"p1"`
	P99            float64 `json:"p99"`
	SaturatedShare float64 `json:"saturated_share"`
	// Chroma is the mean |R−G|+|G−B| of the pixels, 0 for a grey image.
	Chroma float64 `json:"chroma"`
	// Texture is how much steel texture the image shows, measured on
	// every pixel of its grey version.
	Texture Texture `json:"texture"`
}

// MeasureImage measures img's grey levels on a sample of its pixels, and
// its texture on all of them.
func MeasureImage(img image.Image) ImageStats {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return ImageStats{}
	}
	// an odd step, so that fine periodic patterns (a sensor's column
	// pattern, a dither) are not aliased into a uniform sample
	step := max(1, int(math.Sqrt(float64(w)*float64(h)/plausibleProbe))) | 1
	var hist [256]int
	n := 0
	var chroma float64
	gray, isGray := img.(*image.Gray)
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			var v uint8
			if isGray {
				v = gray.GrayAt(x, y).Y
			} else {
				r, g, bl, _ := img.At(x, y).RGBA()
				v = uint8(math.Round(float64(luma(float32(r>>8), float32(g>>8), float32(bl>>8)))))
				chroma += math.Abs(float64(r>>8)-float64(g>>8)) + math.Abs(float64(g>>8)-float64(bl>>8))
			}
			hist[v]++
			n++
		}
	}
	var sum, sq float64
	sat := 0
	for v, c := range hist {
		sum += float64(v * c)
		sq += float64(v*v) * float64(c)
		if v >= saturatedLevel {
			sat += c
		}
	}
	mean := sum / float64(n)
	st := ImageStats{
		Mean:           mean,
		Std:            math.Sqrt(math.Max(0, sq/float64(n)-mean*mean)),
		P1:             histPercentile(hist[:], n, 0.01),
		P99:            histPercentile(hist[:], n, 0.99),
		SaturatedShare: float64(sat) / float64(n),
		Chroma:         chroma / float64(n),
	}
	st.Texture = MeasureTexture(grayView(img), st.Std)
	return st
}

// grayView is img's grey version: the image itself when it is grey, its
// luma plane when it is YCbCr (no copy), else a grey copy.
func grayView(img image.Image) *image.Gray {
	switch g := img.(type) {
	case *image.Gray:
		return g
	case *image.YCbCr:
		return &image.Gray{Pix: g.Y, Stride: g.YStride, Rect: g.Rect}
	}
	return toGray(img)
}

func histPercentile(hist []int, n int, q float64) float64 {
	target := max(1, int(math.Ceil(q*float64(n))))
	acc := 0
	for v, c := range hist {
		acc += c
		if acc >= target {
			return float64(v)
		}
	}
	return float64(len(hist) - 1)
}

// ImplausibleReason returns why an image of the given size and statistics
// cannot be a working strip camera's picture, or "" when it can. line is
// the texture of the good strips of the model's line (Manifest.Texture):
// nil judges uniformity and texture by the generic floors, a line's own
// statistics by floors below its smoothest good strips.
func ImplausibleReason(width, height int, st ImageStats, line *LineTexture) string {
	short, long := min(width, height), max(width, height)
	switch {
	case short < MinStripSide:
		return fmt.Sprintf("implausible image: %d×%d px is too small to show steel texture (at least %d px a side), possible camera or feed fault",
			width, height, MinStripSide)
	case float64(long) > MaxStripAspect*float64(short):
		return fmt.Sprintf("implausible image: %d×%d px has an aspect ratio of %.0f:1 that no strip camera gives (at most %d:1), possible feed fault",
			width, height, float64(long)/float64(short), MaxStripAspect)
	case st.P99 <= blackP99:
		return fmt.Sprintf("implausible image: black frame (99 %% of pixels at grey level %.0f or darker), possible camera or lighting fault", st.P99)
	case st.SaturatedShare > saturatedShare:
		return fmt.Sprintf("implausible image: saturated (%.0f %% of pixels clipped white), possible exposure or lighting fault", 100*st.SaturatedShare)
	case st.Chroma > colourChroma:
		return fmt.Sprintf("implausible image: a colour picture (mean colour difference %.0f), strip cameras give grey images; possible wrong feed", st.Chroma)
	case st.Std < line.uniformFloor():
		return fmt.Sprintf("implausible image: nearly uniform (grey-level spread %.1f), possible camera fault", st.Std)
	case st.Texture.Judged && st.Texture.Score < line.Floor():
		return NoTextureReason(st.Texture.Pattern)
	}
	return ""
}

// NoTextureReason says, in plain words, what a frame without steel
// texture shows (Texture.Pattern) and what may be wrong.
func NoTextureReason(pattern string) string {
	const prefix = "no steel texture: "
	switch pattern {
	case PatternRowStripes:
		return prefix + "horizontal stripes (row banding) and sensor noise, possible camera fault"
	case PatternColumnStripes:
		return prefix + "vertical stripes (column banding) and sensor noise, possible camera fault"
	case PatternGradient:
		return prefix + "a smooth brightness gradient and sensor noise, possible camera or lighting fault"
	}
	return prefix + "flat frame with sensor noise, possible camera or lighting fault"
}
