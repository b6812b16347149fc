package teach

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// coresetProjection is the length features are randomly projected to while
// the coreset is chosen (the distances between projections approximate
// the true ones, as in PatchCore, at a quarter of the work).
const coresetProjection = 32

// Coreset chooses k of features by greedy k-centre selection: each step
// takes the feature farthest from every one chosen so far, so the bank
// covers the whole spread of normal texture, rare looks included, with
// far fewer rows than cells. progress, when set, hears every few steps.
// The choice is deterministic for the same features.
func Coreset(ctx context.Context, features [][]float32, k int, progress func(done, total int)) ([][]float32, error) {
	n := len(features)
	if k >= n {
		return features, nil
	}
	proj := project(features, coresetProjection)
	nearest := make([]float32, n)
	for i := range nearest {
		nearest[i] = float32(math.Inf(1))
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	span := (n + workers - 1) / workers
	chosen := make([]int, 0, k)
	next := 0
	for len(chosen) < k {
		if len(chosen)%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil {
				progress(len(chosen), k)
			}
		}
		chosen = append(chosen, next)
		c := proj[next*coresetProjection : (next+1)*coresetProjection]
		bestAt := make([]int, workers)
		bestD := make([]float32, workers)
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*span, min((w+1)*span, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				bestAt[w], bestD[w] = updateNearest(proj, c, nearest, lo, hi)
			}()
		}
		wg.Wait()
		next = bestAt[0]
		for w := 1; w < workers; w++ {
			if bestD[w] > bestD[0] || (bestD[w] == bestD[0] && bestAt[w] < next) {
				next, bestD[0] = bestAt[w], bestD[w]
			}
		}
	}
	if progress != nil {
		progress(k, k)
	}
	out := make([][]float32, k)
	for i, at := range chosen {
		out[i] = features[at]
	}
	return out, nil
}

// updateNearest lowers nearest[i] (squared distance to the closest chosen
// feature) for i in [lo,hi) with the new centre c, and returns the farthest
// remaining feature there. The race detector's instrumentation is left out
// of this loop (it would make teaching under `go test -race` ten times
// slower); its goroutines write disjoint ranges of nearest.
//
//go:norace
func updateNearest(proj, c []float32, nearest []float32, lo, hi int) (int, float32) {
	bestAt, bestD := lo, float32(-1)
	const p = coresetProjection
	for i := lo; i < hi; i++ {
		v := proj[i*p : i*p+p : i*p+p]
		var s0, s1, s2, s3 float32
		for d := 0; d < p; d += 4 {
			a, b, e, f := v[d]-c[d], v[d+1]-c[d+1], v[d+2]-c[d+2], v[d+3]-c[d+3]
			s0 += a * a
			s1 += b * b
			s2 += e * e
			s3 += f * f
		}
		d := (s0 + s1) + (s2 + s3)
		if d < nearest[i] {
			nearest[i] = d
		}
		if nearest[i] > bestD {
			bestAt, bestD = i, nearest[i]
		}
	}
	return bestAt, bestD
}

// project maps every feature through one fixed random Gaussian matrix to
// dim values, flat (not race-instrumented, like updateNearest: it runs on
// one goroutine).
//
//go:norace
func project(features [][]float32, dim int) []float32 {
	in := len(features[0])
	rng := rand.New(rand.NewPCG(3, 4))
	m := make([]float32, dim*in)
	for i := range m {
		m[i] = float32(rng.NormFloat64() / math.Sqrt(float64(dim)))
	}
	out := make([]float32, len(features)*dim)
	for i, f := range features {
		row := out[i*dim : (i+1)*dim]
		for o := range dim {
			w := m[o*in : (o+1)*in]
			var s float32
			for d, v := range f {
				s += v * w[d]
			}
			row[o] = s
		}
	}
	return out
}
