package inference

import (
	"image"
	"math"
	"slices"
)

// Texture: does the frame show steel at all? A frame with no steel in it
// (a dead or mis-set camera, the light off, nothing under the lens) is
// grey plus the sensor's noise, perhaps with a failing sensor's stripes or
// a lamp's smooth gradient. A model scores such a frame like any other and
// may pass it; a memory bank cannot see that texture is missing. Steel
// texture is correlated across pixels; sensor noise is spatially white.
//
// The measure works in tiles, at two scales: the image itself in tiles of
// textureTile pixels, and the image averaged over 4×4 pixels in tiles of
// textureCoarseTile (128 image pixels). In each tile:
//
//   - the tile's row and column means are taken off, so row or column
//     stripes and any gradient along a row or a column (a linear one in
//     any direction) leave nothing;
//   - D(d) is the mean squared second difference of pixels d apart, along
//     rows and columns (x[i+d] − 2x[i] + x[i−d]): a linear gradient gives
//     none, white noise of variance σ² gives 6σ² at every d, and texture,
//     correlated across pixels, gives more at d = 4 than at d = 1;
//   - the tile's texture is (|D(4) − D(1)| − m)² / D(1), where m is what
//     white noise reaches by chance (three standard deviations): the
//     structured energy, weighed by how far it stands above the fine
//     energy (noise). JPEG compression correlates noise inside its 8×8
//     blocks, which this weighs down, as that energy is spread thin.
//     Anticorrelated structure (a fine regular pattern) counts too: it is
//     no sensor noise either.
//
// Pixels at 0 or clipped white (saturatedLevel) carry no texture: a second
// difference touching one is left out, and a tile with more than a quarter
// of them is not judged (a gradient running into saturation would show a
// kink). The frame's texture at a scale is that of its top 2 % of judged
// tiles, at least two, so a strip half black at its edge, or lit only in
// part, is judged on its steel; and its score is the larger of the two
// scales' textures, each divided by its floor (fineTextureFloor,
// coarseTextureFloor): 1 or more is steel texture whatever the line.
//
// Measured (TestNoSteelFramesAreCaught, TestRealStripsHaveTexture; the
// README's "No steel, no PASS"): every real Severstal strip we have (70:
// dark ones of mean grey 4 to 10 lit in one band, partly black ones,
// brightened copies) scores at least 8.7; generated frames of flat grey
// with sensor noise (spread 1–6, brightness 10–140), row or column stripes
// and smooth gradients score at most 0.52 saved as JPEG at quality 90 and
// at most 0.15 as PNG (flat grey and stripes 0): a margin of about 2 on
// that side, as on the synthetic held-out strips (the least textured
// scores 1.96). Clean cold-rolled steel can score as little as 0.10: a
// model that knows its line judges against that line's good strips
// (LineTexture).
const (
	textureTile        = 64
	textureCoarseStep  = 4
	textureCoarseTile  = 32
	textureFar         = 4    // the second difference compared with the nearest one
	textureEnergyFloor = 0.5  // grey levels²: the least fine energy a tile's texture is weighed against
	fineTextureFloor   = 20   // a fine tile's texture (grey levels²) at or above this is steel
	coarseTextureFloor = 2    // the same for a coarse tile
	textureTopShare    = 0.02 // the frame's texture is its top 2 % of tiles' ...
	textureTopTiles    = 2    // ... and at least its second best tile's
	textureClipShare   = 0.25 // a tile with more clipped pixels than this is not judged
	textureChance      = 6    // three standard deviations of white noise's excess, in near/√n
	// stripeVariance is the variance (grey levels²) between neighbouring
	// rows' or columns' means, beyond what noise gives, that makes a frame
	// without texture striped; smoothVariance the variance beyond the
	// noise and stripes that makes it a gradient.
	stripeVariance = 1.0
	smoothVariance = 16.0
)

// Texture is how much steel texture an image shows.
type Texture struct {
	// Score is the image's texture as a multiple of the generic floor: at
	// or above 1 it shows steel texture whatever the line; a line's own
	// floor may lie lower (LineTexture.Floor).
	Score float64 `json:"score"`
	// Fine and Coarse are the two scales' textures, each divided by its
	// floor; Score is the larger.
	Fine   float64 `json:"fine"`
	Coarse float64 `json:"coarse"`
	// Judged is false when too much of the image is black or clipped
	// white to judge its texture (the black and saturation checks speak
	// for such an image).
	Judged bool `json:"judged"`
	// Pattern is what an image below the generic floor shows instead of
	// texture (PatternFlat, PatternRowStripes, PatternColumnStripes,
	// PatternGradient); empty above it.
	Pattern string `json:"pattern,omitempty"`
}

// What a frame without steel texture shows.
const (
	PatternFlat          = "flat"
	PatternRowStripes    = "row stripes"
	PatternColumnStripes = "column stripes"
	PatternGradient      = "gradient"
)

// MeasureTexture measures img's steel texture; std is its grey-level
// standard deviation (ImageStats.Std), which tells a gradient from a flat
// frame. It reads every pixel once for each scale: about 2 ms for a
// 1600×256 strip (BenchmarkMeasureTexture).
func MeasureTexture(img *image.Gray, std float64) Texture {
	b := img.Bounds()
	if b.Dx() < 2*textureFar+1 || b.Dy() < 2*textureFar+1 {
		return Texture{}
	}
	var tm textureMeter
	fine := tm.scale(grayTiles{img}, textureTile)
	coarse := coarsePlane(img, textureCoarseStep)
	var coarseTop float64
	coarseJudged := false
	if coarse.w >= 2*textureFar+1 && coarse.h >= 2*textureFar+1 {
		c := tm.scale(coarse, textureCoarseTile)
		coarseTop, coarseJudged = c.top, c.judged
	}
	t := Texture{Judged: fine.judged || coarseJudged}
	if !t.Judged {
		return t
	}
	t.Fine, t.Coarse = fine.top/fineTextureFloor, coarseTop/coarseTextureFloor
	t.Score = max(t.Fine, t.Coarse)
	if t.Score < 1 {
		t.Pattern = texturePattern(img, fine.noise, std)
	}
	return t
}

// plane is a grey image as float32 values, with a mark on every pixel
// that carries no texture (black, or clipped white).
type plane struct {
	w, h    int
	v       []float32
	clipped []bool
}

func clippedLevel(v uint8) bool { return v == 0 || v >= saturatedLevel }

// tileSource is an image the meter reads tile by tile.
type tileSource interface {
	size() (w, h int)
	// loadTile copies the tw×th tile at (x0,y0) into v and clipped and
	// returns how many of its pixels are clipped, adding each row's and
	// column's sum to rowSum and colSum.
	loadTile(x0, y0, tw, th int, v []float32, clipped []bool, rowSum, colSum []float32) int
}

// grayTiles reads a grey image's own pixels.
type grayTiles struct{ *image.Gray }

func (g grayTiles) size() (int, int) { return g.Rect.Dx(), g.Rect.Dy() }

func (g grayTiles) loadTile(x0, y0, tw, th int, v []float32, clipped []bool, rowSum, colSum []float32) int {
	n := 0
	colSum = colSum[:tw]
	for y := range th {
		i := (y0+y)*g.Stride + x0
		out, clip := v[y*tw:(y+1)*tw], clipped[y*tw:(y+1)*tw]
		s := 0
		for x, p := range g.Pix[i : i+tw] {
			f := float32(p)
			out[x] = f
			colSum[x] += f
			s += int(p)
			c := clippedLevel(p)
			clip[x] = c
			if c {
				n++
			}
		}
		rowSum[y] = float32(s)
	}
	return n
}

func (p *plane) size() (int, int) { return p.w, p.h }

func (p *plane) loadTile(x0, y0, tw, th int, v []float32, clipped []bool, rowSum, colSum []float32) int {
	n := 0
	for y := range th {
		i := (y0+y)*p.w + x0
		copy(v[y*tw:(y+1)*tw], p.v[i:i+tw])
		copy(clipped[y*tw:(y+1)*tw], p.clipped[i:i+tw])
		var s float32
		for x, f := range p.v[i : i+tw] {
			s += f
			colSum[x] += f
		}
		rowSum[y] = s
		for _, c := range p.clipped[i : i+tw] {
			if c {
				n++
			}
		}
	}
	return n
}

// scaleTexture is one scale's result: the top tiles' texture, whether
// enough tiles were judged, and the median tile's noise variance.
type scaleTexture struct {
	top    float64
	judged bool
	noise  float64
}

// textureMeter holds the buffers one measurement reuses across tiles.
type textureMeter struct {
	v                  []float32
	clipped            []bool
	rowSum, colSum     []float32
	textures, energies []float64
}

// scale measures every tile of side t of src (spread evenly, the last
// ones flush with the edges).
func (tm *textureMeter) scale(src tileSource, t int) scaleTexture {
	w, h := src.size()
	tw, th := min(t, w), min(t, h)
	nx, ny := max(1, w/tw), max(1, h/th)
	tm.textures, tm.energies = tm.textures[:0], tm.energies[:0]
	for ty := range ny {
		y0 := spread(ty, ny, h-th)
		for tx := range nx {
			x0 := spread(tx, nx, w-tw)
			nclip := tm.load(src, x0, y0, tw, th)
			if float64(nclip) > textureClipShare*float64(tw*th) {
				continue
			}
			tex, d1 := tm.tile(tw, th, nclip > 0)
			tm.textures = append(tm.textures, tex)
			tm.energies = append(tm.energies, d1)
		}
	}
	if len(tm.textures) == 0 {
		return scaleTexture{}
	}
	// an image of a tile or two at this scale is judged on what it has
	k := min(len(tm.textures), max(textureTopTiles, int(math.Ceil(textureTopShare*float64(len(tm.textures))))))
	slices.Sort(tm.textures)
	slices.Sort(tm.energies)
	return scaleTexture{
		top:    tm.textures[len(tm.textures)-k],
		judged: true,
		// white noise of variance σ² gives second differences of 6σ²
		noise: tm.energies[len(tm.energies)/2] / 6,
	}
}

// spread places tile i of n evenly over 0..room.
func spread(i, n, room int) int {
	if n <= 1 {
		return 0
	}
	return i * room / (n - 1)
}

// load reads the tw×th tile at (x0,y0) of src into the meter's buffers,
// with its row and column sums, and returns how many of its pixels are
// clipped.
func (tm *textureMeter) load(src tileSource, x0, y0, tw, th int) int {
	n := tw * th
	if cap(tm.v) < n {
		tm.v, tm.clipped = make([]float32, n), make([]bool, n)
	}
	if cap(tm.rowSum) < th || cap(tm.colSum) < tw {
		tm.rowSum, tm.colSum = make([]float32, th), make([]float32, tw)
	}
	tm.v, tm.clipped, tm.rowSum, tm.colSum = tm.v[:n], tm.clipped[:n], tm.rowSum[:th], tm.colSum[:tw]
	clear(tm.colSum)
	return src.loadTile(x0, y0, tw, th, tm.v, tm.clipped, tm.rowSum, tm.colSum)
}

// tile measures the loaded tile: its texture and its fine energy D(1).
func (tm *textureMeter) tile(tw, th int, anyClipped bool) (texture, d1 float64) {
	tm.removeMeans(tw, th)
	var near, far float64
	var n int
	if anyClipped {
		near, far, n = secondDifferencesClipped(tm.v, tm.clipped, tw, th)
	} else {
		near, far, n = secondDifferences(tm.v, tw, th)
	}
	if n == 0 {
		return 0, 0
	}
	near, far = near/float64(n), far/float64(n)
	// what white noise gives by chance: (far−near)/near has a standard
	// deviation of about 2/√n over n centres
	excess := max(0, math.Abs(far-near)-textureChance*near/math.Sqrt(float64(n)))
	return excess * excess / max(near, textureEnergyFloor), near
}

// removeMeans takes the tile's row and column means off its values (and
// adds its overall mean back): what is left varies along both axes.
func (tm *textureMeter) removeMeans(tw, th int) {
	rm, cm := tm.rowSum[:th], tm.colSum[:tw]
	var all float32
	for y := range rm {
		all += rm[y]
		rm[y] /= float32(tw)
	}
	mean := all / float32(tw*th)
	for x := range cm {
		cm[x] = cm[x]/float32(th) - mean
	}
	for y := range th {
		row := tm.v[y*tw : (y+1)*tw]
		r := rm[y]
		for x, c := range cm {
			row[x] -= r + c
		}
	}
}

// secondDifferences sums the squared second differences at distance 1
// (near) and textureFar (far) along rows and columns, over the same
// centres, and counts them.
func secondDifferences(v []float32, tw, th int) (near, far float64, n int) {
	const d = textureFar
	if tw > 2*d {
		for y := range th {
			row := v[y*tw : (y+1)*tw]
			sn, sf := squaredSecondDifferences(row[d:tw-d], row[d-1:tw-d-1], row[d+1:tw-d+1], row[:tw-2*d], row[2*d:])
			near, far = near+float64(sn), far+float64(sf)
		}
		n = th * (tw - 2*d)
	}
	for y := d; y < th-d; y++ {
		sn, sf := squaredSecondDifferences(v[y*tw:(y+1)*tw], v[(y-1)*tw:y*tw], v[(y+1)*tw:(y+2)*tw], v[(y-d)*tw:(y-d+1)*tw], v[(y+d)*tw:(y+d+1)*tw])
		near, far = near+float64(sn), far+float64(sf)
		n += tw
	}
	return near, far, n
}

// squaredSecondDifferences sums, over the centres mid, the squared second
// differences with the neighbours at distance 1 (before1, after1) and at
// textureFar (beforeFar, afterFar): one row's or one column direction's
// share of secondDifferences.
func squaredSecondDifferences(mid, before1, after1, beforeFar, afterFar []float32) (near, far float32) {
	for x, c := range mid {
		c *= 2
		a := before1[x] + after1[x] - c
		b := beforeFar[x] + afterFar[x] - c
		near += a * a
		far += b * b
	}
	return near, far
}

// secondDifferencesClipped is secondDifferences leaving out every centre
// whose differences touch a clipped pixel.
func secondDifferencesClipped(v []float32, clipped []bool, tw, th int) (near, far float64, n int) {
	const d = textureFar
	for y := range th {
		for x := d; x < tw-d; x++ {
			i := y*tw + x
			if clipped[i] || clipped[i-1] || clipped[i+1] || clipped[i-d] || clipped[i+d] {
				continue
			}
			c := 2 * v[i]
			a, b := v[i+1]+v[i-1]-c, v[i+d]+v[i-d]-c
			near, far = near+float64(a*a), far+float64(b*b)
			n++
		}
	}
	for y := d; y < th-d; y++ {
		for x := range tw {
			i := y*tw + x
			if clipped[i] || clipped[i-tw] || clipped[i+tw] || clipped[i-d*tw] || clipped[i+d*tw] {
				continue
			}
			c := 2 * v[i]
			a, b := v[i+tw]+v[i-tw]-c, v[i+d*tw]+v[i-d*tw]-c
			near, far = near+float64(a*a), far+float64(b*b)
			n++
		}
	}
	return near, far, n
}

// coarsePlane averages img over step×step pixels; a coarse pixel is
// clipped when any of its pixels is.
func coarsePlane(img *image.Gray, step int) *plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cw, ch := w/step, h/step
	p := &plane{w: cw, h: ch, v: make([]float32, cw*ch), clipped: make([]bool, cw*ch)}
	acc := make([]int32, cw)
	for y := range ch * step {
		row := img.Pix[y*img.Stride : y*img.Stride+cw*step]
		clip := p.clipped[(y/step)*cw : (y/step+1)*cw]
		for cx := range acc {
			s := int32(0)
			for _, v := range row[cx*step : cx*step+step] {
				s += int32(v)
				if clippedLevel(v) {
					clip[cx] = true
				}
			}
			acc[cx] += s
		}
		if y%step == step-1 {
			out := p.v[(y/step)*cw : (y/step+1)*cw]
			for cx, s := range acc {
				out[cx] = float32(s) / float32(step*step)
			}
			clear(acc)
		}
	}
	return p
}

// texturePattern says what a frame without texture shows: stripes when
// neighbouring rows' or columns' means differ by more than the noise
// explains, a gradient when the frame's spread is well above its noise
// and stripes, else a flat frame with noise.
func texturePattern(img *image.Gray, noise, std float64) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rowMeans, colMeans := make([]float64, h), make([]float64, w)
	for y := range h {
		s := 0
		for x, v := range img.Pix[y*img.Stride : y*img.Stride+w] {
			s += int(v)
			colMeans[x] += float64(v)
		}
		rowMeans[y] = float64(s) / float64(w)
	}
	for x := range colMeans {
		colMeans[x] /= float64(h)
	}
	rowVar := profileVariance(rowMeans, noise/float64(w))
	colVar := profileVariance(colMeans, noise/float64(h))
	switch {
	case max(rowVar, colVar) >= stripeVariance && rowVar >= colVar:
		return PatternRowStripes
	case max(rowVar, colVar) >= stripeVariance:
		return PatternColumnStripes
	case std*std-noise-max(0, rowVar)-max(0, colVar) >= max(smoothVariance, noise):
		return PatternGradient
	}
	return PatternFlat
}

// profileVariance is the variance between neighbouring values of a
// profile of means (half their mean squared difference) beyond the
// noise variance each mean carries.
func profileVariance(p []float64, noise float64) float64 {
	if len(p) < 2 {
		return 0
	}
	var s float64
	for i := 1; i < len(p); i++ {
		d := p[i] - p[i-1]
		s += d * d
	}
	return s/float64(2*(len(p)-1)) - noise
}

// LineTexture is the texture of the good strips of one line, as teach and
// learn measured it on the strips they saw (Manifest.Texture): a model
// that knows its line judges a frame's texture and uniformity against
// them, so very smooth clean steel (cold-rolled, a grey-level spread under
// 2) is not taken for a camera fault, while a frame far smoother than any
// of the line's good strips still is.
type LineTexture struct {
	// Strips is how many good strips were measured.
	Strips int `json:"strips"`
	// Min, P05 and Median are their texture scores (Texture.Score): the
	// lowest, the 5th percentile and the median.
	Min    float64 `json:"min"`
	P05    float64 `json:"p05"`
	Median float64 `json:"median"`
	// StdMin is the smallest grey-level spread (ImageStats.Std) among them.
	StdMin float64 `json:"std_min"`
}

// UnknownLine is a line not measured yet: only what no steel shows is
// implausible (texture under MinTextureFloor; no uniformity floor). Teach
// and learn read their strips with it, then measure the line.
var UnknownLine = &LineTexture{}

// MinTextureFloor is the lowest texture floor any line gets: a perfectly
// flat frame, or flat grey or stripes with white sensor noise saved
// losslessly (score 0), is no line's steel.
const MinTextureFloor = 0.02

// Floor is the texture score below which a frame shows no steel texture:
// 1 for the generic check (nil), half the line's least textured good strip
// otherwise, never above 1 or below MinTextureFloor.
func (l *LineTexture) Floor() float64 {
	if l == nil {
		return 1
	}
	return min(1, max(MinTextureFloor, l.Min/2))
}

// uniformFloor is the grey-level spread below which a frame is nearly
// uniform: uniformStd for the generic check, at most half the line's
// smoothest good strip's otherwise.
func (l *LineTexture) uniformFloor() float64 {
	if l == nil {
		return uniformStd
	}
	return min(uniformStd, l.StdMin/2)
}

// lineOutlierRatio: a good strip whose texture lies this many times below
// the 5th percentile of the other good strips of its folder is not taken
// as the line's steel (a frame with no steel among them would otherwise
// pull the line's floor down to nothing).
const lineOutlierRatio = 20

// FitLineTexture measures a line from the statistics of its good strips
// (those too black or clipped to judge are left out): it returns the
// line's texture, nil when no strip could be judged, and which strips lie
// so far below the others (lineOutlierRatio) that they show no steel: they
// are left out of the line and should be left out of learning.
func FitLineTexture(stats []ImageStats) (*LineTexture, []bool) {
	outlier := make([]bool, len(stats))
	var scores []float64
	for _, st := range stats {
		if st.Texture.Judged {
			scores = append(scores, st.Texture.Score)
		}
	}
	if len(scores) == 0 {
		return nil, outlier
	}
	cut := sortedQuantile(slices.Sorted(slices.Values(scores)), 0.05) / lineOutlierRatio
	var kept, stds []float64
	for i, st := range stats {
		if !st.Texture.Judged {
			continue
		}
		if st.Texture.Score < cut {
			outlier[i] = true
			continue
		}
		kept = append(kept, st.Texture.Score)
		stds = append(stds, st.Std)
	}
	slices.Sort(kept)
	return &LineTexture{
		Strips: len(kept),
		Min:    kept[0],
		P05:    sortedQuantile(kept, 0.05),
		Median: sortedQuantile(kept, 0.5),
		StdMin: slices.Min(stds),
	}, outlier
}

// sortedQuantile is the q-quantile of sorted values (linear between order
// statistics).
func sortedQuantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	lo := int(pos)
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// validateTexture adds the problems of a manifest's line texture to bad.
func (m *Manifest) validateTexture(bad problem) {
	l := m.Texture
	if l == nil {
		return
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
	if l.Strips < 1 || !finite(l.Min) || !finite(l.P05) || !finite(l.Median) || !finite(l.StdMin) ||
		l.Min > l.P05 || l.P05 > l.Median {
		bad("texture needs at least one strip and finite, non-negative, ordered figures (min ≤ p05 ≤ median)")
	}
}
