package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"steelinspect/internal/strictjson"
	"steelinspect/verdict"
)

// Familiarity: how much a strip looks like the strips its model was trained
// on, measured in the model's own feature space from the same run that
// scores it (a whole-strip model's second output, the window-averaged
// backbone features). A model that has never seen anything like a strip
// cannot be trusted to decide on it, whatever probability it gives; the
// engine sends such a strip to a person.
//
// The statistic is a Gaussian model of the training windows' features,
// kept compact: their mean, the top K principal directions with their
// variances, and the mean energy of what those directions leave out. A
// window's score is
//
//	sqrt( (Σ_k z_k²/λ_k + r²/ρ) / (K+1) ),  z = Pᵀ(f−μ),  r² = |f−μ|² − |z|²
//
// (a Mahalanobis distance in the principal subspace plus the residual in
// units of its training mean), about 1 on training windows. A strip's score
// is the mean of its patches' scores; above the manifest's limit the strip
// is unfamiliar.

// FamiliaritySpec is the manifest's entry for a model's familiarity
// statistics: the file that holds them, its hash, and the limit.
type FamiliaritySpec struct {
	File   string  `json:"file"`
	SHA256 string  `json:"sha256"`
	Limit  float64 `json:"limit"`
	// Method names the statistic, for people reading the manifest.
	Method string `json:"method,omitempty"`
	// FittedOn and LimitFittedOn say which strips the statistics and the
	// limit were fitted on; HeldoutFamiliar is the share of those limit
	// strips that the limit leaves familiar.
	FittedOn        string  `json:"fitted_on,omitempty"`
	LimitFittedOn   string  `json:"limit_fitted_on,omitempty"`
	HeldoutFamiliar float64 `json:"heldout_familiar,omitempty"`
}

// FamiliarityStats is the content of a familiarity file.
type FamiliarityStats struct {
	Dim int `json:"dim"`
	// Mean is the training windows' mean feature vector (Dim values).
	Mean []float64 `json:"mean"`
	// Components are the top principal directions, unit vectors of Dim
	// values, with their Variances.
	Components [][]float64 `json:"components"`
	Variances  []float64   `json:"variances"`
	// Residual is the training windows' mean squared distance from the
	// principal subspace.
	Residual float64 `json:"residual"`
	// Windows is how many training windows the statistics come from.
	Windows int `json:"windows"`
	// Domain is the model's validated-domain check (see domain.go), nil
	// for a model without one.
	Domain *DomainCheck `json:"domain,omitempty"`
}

// FamiliarityMethod describes the statistic in manifests.
const FamiliarityMethod = "mean of the patches' Mahalanobis distances in the top principal components of the " +
	"training windows' features, plus the residual outside them (1 is typical of training strips)"

// ParseFamiliarityStats reads and checks a familiarity file.
func ParseFamiliarityStats(data []byte) (*FamiliarityStats, error) {
	var s FamiliarityStats
	if err := strictjson.Decode(data, &s); err != nil {
		return nil, fmt.Errorf("familiarity statistics are not valid JSON: %w", err)
	}
	switch {
	case s.Dim < 1 || s.Dim > 1<<16:
		return nil, fmt.Errorf("familiarity statistics: dim %d is out of range", s.Dim)
	case len(s.Mean) != s.Dim:
		return nil, fmt.Errorf("familiarity statistics: mean has %d values, dim is %d", len(s.Mean), s.Dim)
	case len(s.Components) != len(s.Variances) || len(s.Components) == 0:
		return nil, errors.New("familiarity statistics: need as many components as variances, at least one")
	case !(s.Residual > 0):
		return nil, errors.New("familiarity statistics: residual must be positive")
	}
	for k, c := range s.Components {
		if len(c) != s.Dim {
			return nil, fmt.Errorf("familiarity statistics: component %d has %d values, dim is %d", k, len(c), s.Dim)
		}
		if !(s.Variances[k] > 0) {
			return nil, fmt.Errorf("familiarity statistics: variance %d must be positive", k)
		}
	}
	if s.Domain != nil {
		if err := s.Domain.validate(); err != nil {
			return nil, fmt.Errorf("familiarity statistics: %w", err)
		}
	}
	return &s, nil
}

// WindowScore is the familiarity score of one feature vector (Dim values,
// read with the given stride: features of one window sit stride apart in a
// [D, rows, cols] map).
func (s *FamiliarityStats) WindowScore(f []float32, stride int) float64 {
	var total float64
	centred := make([]float64, s.Dim)
	for d := range centred {
		v := float64(f[d*stride]) - s.Mean[d]
		centred[d] = v
		total += v * v
	}
	var maha, explained float64
	for k, c := range s.Components {
		var z float64
		for d, v := range centred {
			z += c[d] * v
		}
		explained += z * z
		maha += z * z / s.Variances[k]
	}
	resid := math.Max(0, total-explained)
	return math.Sqrt((maha + resid/s.Residual) / float64(len(s.Components)+1))
}

// StripScore combines a strip's patch scores into its familiarity score:
// their mean (0 for no patch).
func StripScore[F float32 | float64](patchScores []F) float64 {
	if len(patchScores) == 0 {
		return 0
	}
	var sum float64
	for _, v := range patchScores {
		sum += float64(v)
	}
	return sum / float64(len(patchScores))
}

// stripFamiliarity is a strip's familiarity from its patch scores.
func stripFamiliarity(patchScores []float32, limit float64) *verdict.StripFamiliarity {
	if len(patchScores) == 0 {
		return nil
	}
	score := StripScore(patchScores)
	return &verdict.StripFamiliarity{Score: round3(score), Limit: limit, Unfamiliar: score > limit}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// FitFamiliarity fits the statistics on training windows' feature vectors
// (each Dim values) keeping the top k principal components.
func FitFamiliarity(features [][]float32, k int) (*FamiliarityStats, error) {
	n := len(features)
	if n < 2 {
		return nil, fmt.Errorf("familiarity: need at least 2 feature vectors, have %d", n)
	}
	dim := len(features[0])
	if k < 1 || k >= dim || k >= n {
		return nil, fmt.Errorf("familiarity: %d components do not fit %d windows of %d features", k, n, dim)
	}
	mean := make([]float64, dim)
	for _, f := range features {
		if len(f) != dim {
			return nil, errors.New("familiarity: feature vectors differ in length")
		}
		for d, v := range f {
			mean[d] += float64(v)
		}
	}
	for d := range mean {
		mean[d] /= float64(n)
	}
	x := mat.NewDense(n, dim, nil)
	for i, f := range features {
		row := x.RawRowView(i)
		for d, v := range f {
			row[d] = float64(v) - mean[d]
		}
	}
	vectors, values, err := principalComponents(x, k)
	if err != nil {
		return nil, err
	}
	// the total variance is the trace of the covariance
	var totalVar float64
	for i := range n {
		for _, v := range x.RawRowView(i) {
			totalVar += v * v
		}
	}
	totalVar /= float64(n - 1)
	s := &FamiliarityStats{Dim: dim, Mean: mean, Windows: n}
	var kept float64
	floor := 1e-9 * totalVar
	for j := range k {
		s.Components = append(s.Components, vectors[j])
		s.Variances = append(s.Variances, math.Max(values[j], floor))
		kept += math.Max(values[j], 0)
	}
	// the residual's mean per window, with the same (n-1) normalisation
	s.Residual = math.Max(totalVar-kept, math.Max(floor, 1e-12))
	return s, nil
}

// exactComponentsDim is the largest feature length whose principal
// components are found exactly, from the covariance's eigenvectors; past
// it (the 1,280 window features of a whole-strip model, 13 s on 2 cores
// exactly) a randomised range finder with power iterations finds the top
// ones in about a second.
const exactComponentsDim = 256

// principalComponents returns the top k principal directions of the
// centred rows of x and their variances (with the n-1 normalisation),
// largest first.
func principalComponents(x *mat.Dense, k int) ([][]float64, []float64, error) {
	n, dim := x.Dims()
	if dim <= exactComponentsDim {
		return exactComponents(x, k)
	}
	// Halko, Martinsson and Tropp (2011), algorithm 4.4: the range of x's
	// top singular vectors from a random start, refined by power
	// iterations, then the SVD of x projected on it
	const oversample, powerIterations = 16, 4
	l := min(k+oversample, dim, n)
	rng := rand.New(rand.NewPCG(1, 2))
	omega := mat.NewDense(dim, l, nil)
	for i := range dim {
		for j := range l {
			omega.Set(i, j, rng.NormFloat64())
		}
	}
	var y, z mat.Dense
	y.Mul(x, omega)
	q := orthonormal(&y)
	for range powerIterations {
		z.Reset()
		z.Mul(x.T(), q)
		y.Reset()
		y.Mul(x, orthonormal(&z))
		q = orthonormal(&y)
	}
	var b mat.Dense
	b.Mul(q.T(), x)
	var svd mat.SVD
	if !svd.Factorize(&b, mat.SVDThin) {
		return nil, nil, errors.New("familiarity: singular value decomposition did not converge")
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	vectors, values := make([][]float64, k), make([]float64, k)
	for j := range k {
		vectors[j] = mat.Col(nil, j, &v)
		values[j] = sv[j] * sv[j] / float64(n-1)
	}
	return vectors, values, nil
}

// orthonormal returns an orthonormal basis of a's columns (a is r×c with
// r ≥ c), by modified Gram-Schmidt done twice (the second pass mends what
// rounding left of the first): r×c memory, where a QR's full Q is r×r (720
// MB for the windows of 800 strips).
func orthonormal(a *mat.Dense) *mat.Dense {
	r, c := a.Dims()
	cols := make([][]float64, c)
	for j := range cols {
		cols[j] = mat.Col(nil, j, a)
		for range 2 {
			for _, q := range cols[:j] {
				floats.AddScaled(cols[j], -floats.Dot(q, cols[j]), q)
			}
		}
		if n := floats.Norm(cols[j], 2); n > 0 {
			floats.Scale(1/n, cols[j])
		}
	}
	q := mat.NewDense(r, c, nil)
	for j, v := range cols {
		q.SetCol(j, v)
	}
	return q
}

// exactComponents is principalComponents from the covariance's
// eigenvectors.
func exactComponents(x *mat.Dense, k int) ([][]float64, []float64, error) {
	n, dim := x.Dims()
	var cov mat.SymDense
	cov.SymOuterK(1/float64(n-1), x.T())
	var eig mat.EigenSym
	if !eig.Factorize(&cov, true) {
		return nil, nil, errors.New("familiarity: eigen decomposition did not converge")
	}
	all := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, dim)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return all[order[a]] > all[order[b]] })
	vectors, values := make([][]float64, k), make([]float64, k)
	for j, col := range order[:k] {
		vectors[j] = mat.Col(nil, col, &vecs)
		values[j] = all[col]
	}
	return vectors, values, nil
}

// Marshal writes the statistics as the familiarity file's JSON.
func (s *FamiliarityStats) Marshal() ([]byte, error) {
	rounded := *s
	r := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(float32(x))
		}
		return out
	}
	rounded.Mean = r(s.Mean)
	rounded.Variances = r(s.Variances)
	rounded.Components = make([][]float64, len(s.Components))
	for i, c := range s.Components {
		rounded.Components[i] = r(c)
	}
	return json.Marshal(rounded)
}

// FamiliarityLimit picks the limit from held-out strip scores: the score
// that leaves the given share familiar, times margin, so that strips a
// little off the held-out ones are still decided by the model.
func FamiliarityLimit(scores []float64, share, margin float64) (float64, error) {
	if len(scores) == 0 {
		return 0, errors.New("familiarity: no held-out strips to fit the limit on")
	}
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	i := int(math.Ceil(share*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return math.Ceil(s[i]*margin*100) / 100, nil
}

// unfamiliarReason words a strip's familiarity for the person it goes to:
// outside the validated domain first (it says more), else unlike the
// training strips.
func unfamiliarReason(f *verdict.StripFamiliarity, d *DomainCheck) string {
	if f.Domain != nil && f.Domain.Outside && d != nil {
		return outsideDomainReason(f, d.ValidatedOn)
	}
	return fmt.Sprintf("unfamiliar strip: the model was not trained on strips like this (score %.2f, limit %.2f)",
		f.Score, f.Limit)
}
