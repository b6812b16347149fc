package learn

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/optimize"
)

// cellSet is labelled cell features for the logistic head: X holds n rows
// of dim values, Y each row's label, W each row's weight.
type cellSet struct {
	dim int
	X   []float32
	Y   []bool
	W   []float64
	// z, mean and std are the rows standardised (in single precision: half
	// the memory, the sums are kept in double), kept for the next fit on
	// the same rows (window heads fit one set with several penalties)
	z         []float32
	mean, std []float64
}

func (s *cellSet) add(f []float32, y bool, w float64) {
	s.X = append(s.X, f...)
	s.Y = append(s.Y, y)
	s.W = append(s.W, w)
}

func (s *cellSet) n() int { return len(s.Y) }

// linear is a logistic model on raw features: logit = W·f + B.
type linear struct {
	W []float64
	B float64
}

func (l linear) logit(f []float32) float64 {
	s := l.B
	for d, w := range l.W {
		s += w * float64(f[d])
	}
	return s
}

// cellL2 is the ridge penalty of cell heads on standardised weights:
// small, so that the head follows the data where it has plenty, and
// finite where a feature separates the labels perfectly.
const cellL2 = 1e-3

// fitLogistic fits weighted logistic regression by L-BFGS on standardised
// features, with ridge penalty l2 on the standardised weights, and returns
// it on raw features. The two classes weigh alike in total whatever their
// counts.
func fitLogistic(s *cellSet, l2 float64) (linear, error) { return fitLogisticFrom(s, l2, nil) }

// fitLogisticFrom is fitLogistic starting from the head from (nil: from
// zero weights): a head fitted with a neighbouring penalty, or on most of
// the same rows, is a few steps from the answer.
func fitLogisticFrom(s *cellSet, l2 float64, from *linear) (linear, error) {
	n, dim := s.n(), s.dim
	w, err := balancedWeights(s)
	if err != nil {
		return linear{}, err
	}
	z, mean, std := s.standardised()
	// each worker sums the loss and gradient of its share of the rows
	workers := max(1, min(runtime.GOMAXPROCS(0), n/256))
	parts := make([][]float64, workers)
	losses := make([]float64, workers)
	for k := range parts {
		parts[k] = make([]float64, dim+1)
	}
	fg := func(grad, x []float64) float64 {
		var wg sync.WaitGroup
		for k := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lo, hi := k*n/workers, (k+1)*n/workers
				losses[k] = partialLoss(z, s.Y, w, x, dim, lo, hi, parts[k], grad != nil)
			}()
		}
		wg.Wait()
		var loss float64
		if grad != nil {
			clear(grad)
		}
		for k := range workers {
			loss += losses[k]
			if grad != nil {
				for d, g := range parts[k] {
					grad[d] += g
				}
			}
		}
		for d := range dim {
			loss += 0.5 * l2 * x[d] * x[d]
			if grad != nil {
				grad[d] += l2 * x[d]
			}
		}
		return loss
	}
	// the line search asks for the gradient where it has just asked for
	// the loss: one pass over the rows gives both, and the gradient is
	// kept for that point
	var lastX, lastGrad []float64
	p := optimize.Problem{
		Func: func(x []float64) float64 {
			lastX, lastGrad = append(lastX[:0], x...), slices.Grow(lastGrad[:0], len(x))[:len(x)]
			return fg(lastGrad, x)
		},
		Grad: func(grad, x []float64) {
			if slices.Equal(x, lastX) {
				copy(grad, lastGrad)
				return
			}
			fg(grad, x)
		},
	}
	res, err := optimize.Minimize(p, standardisedStart(from, mean, std), &optimize.Settings{
		GradientThreshold: 1e-5, MajorIterations: 200,
	}, &optimize.LBFGS{})
	if err != nil && res == nil {
		return linear{}, err
	}

	out := linear{W: make([]float64, dim), B: res.X[dim]}
	for d := range dim {
		out.W[d] = res.X[d] / std[d]
		out.B -= res.X[d] * mean[d] / std[d]
	}
	return out, nil
}

// standardisedStart is the head from on standardised features (w·z + b
// with z = (f-mean)/std, the bias last), or zero weights without one.
func standardisedStart(from *linear, mean, std []float64) []float64 {
	dim := len(mean)
	start := make([]float64, dim+1)
	if from == nil || len(from.W) != dim {
		return start
	}
	start[dim] = from.B
	for d, w := range from.W {
		start[d] = w * std[d]
		start[dim] += w * mean[d]
	}
	return start
}

// balancedWeights scales the rows' weights so that each class sums to
// one half.
func balancedWeights(s *cellSet) ([]float64, error) {
	var pos, neg float64
	for i, y := range s.Y {
		if y {
			pos += s.W[i]
		} else {
			neg += s.W[i]
		}
	}
	if pos == 0 || neg == 0 {
		return nil, errors.New("cells of one kind only")
	}
	w := make([]float64, len(s.Y))
	for i, y := range s.Y {
		if y {
			w[i] = s.W[i] / (2 * pos)
		} else {
			w[i] = s.W[i] / (2 * neg)
		}
	}
	return w, nil
}

// partialLoss is the weighted logistic loss of rows [lo, hi) of z at x
// (the last value the bias), and, when withGrad, its gradient in grad.
func partialLoss(z []float32, y []bool, w, x []float64, dim, lo, hi int, grad []float64, withGrad bool) float64 {
	var loss float64
	if withGrad {
		clear(grad)
	}
	for i := lo; i < hi; i++ {
		row := z[i*dim : (i+1)*dim]
		t := x[dim]
		for d, v := range row {
			t += x[d] * float64(v)
		}
		// log(1+exp(-y t)), written to stay finite
		yt := t
		if !y[i] {
			yt = -t
		}
		loss += w[i] * softplus(-yt)
		if withGrad {
			g := -w[i] * sigmoid(-yt)
			if !y[i] {
				g = -g
			}
			for d, v := range row {
				grad[d] += g * float64(v)
			}
			grad[dim] += g
		}
	}
	return loss
}

// standardised returns s's rows standardised (row after row)
// with each feature's mean and standard deviation, computed once.
func (s *cellSet) standardised() (z []float32, mean, std []float64) {
	if s.z != nil && len(s.z) == s.n()*s.dim {
		return s.z, s.mean, s.std
	}
	n, dim := s.n(), s.dim
	mean, std = standardise(s)
	z = make([]float32, n*dim)
	for i := range n {
		for d := range dim {
			z[i*dim+d] = float32((float64(s.X[i*dim+d]) - mean[d]) / std[d])
		}
	}
	s.z, s.mean, s.std = z, mean, std
	return z, mean, std
}

// standardise returns each feature's weighted mean and standard deviation
// (at least a small floor, so a constant feature does not divide by 0).
func standardise(s *cellSet) (mean, std []float64) {
	dim := s.dim
	mean, std = make([]float64, dim), make([]float64, dim)
	var tw float64
	for i, w := range s.W {
		tw += w
		for d := range dim {
			mean[d] += w * float64(s.X[i*dim+d])
		}
	}
	for d := range dim {
		mean[d] /= tw
	}
	for i, w := range s.W {
		for d := range dim {
			v := float64(s.X[i*dim+d]) - mean[d]
			std[d] += w * v * v
		}
	}
	for d := range dim {
		std[d] = math.Max(math.Sqrt(std[d]/tw), 1e-3)
	}
	return mean, std
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}
