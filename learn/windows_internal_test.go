package learn

import (
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"

	"steelinspect/evaluate"
)

// stripOf is a defect-free strip of cols windows of dim values: window j's
// first value is level[j], the rest noise.
func stripOf(sha string, level []float32, dim int, rng *rand.Rand) featured {
	g := &halfGrid{cols: len(level), rows: 1, dim: dim, width: 128*len(level) + 128, height: 256}
	for _, l := range level {
		for d := range dim {
			v := float32(rng.NormFloat64()) * 0.1
			if d == 0 {
				v = l
			}
			g.bits = append(g.bits, float16.Fromfloat32(v).Bits())
		}
	}
	return featured{Example: Example{Masks: map[int]*evaluate.Mask{}}, sha: sha, grid: g}
}

// TestHardRoundWeighsEachCleanStripsWorstWindow: the hard round adds, for
// each defect-free strip, its highest window by the first head, weighing
// as much as all the strip's windows, and the capped defect-free sample
// keeps every defective row.
func TestHardRoundWeighsEachCleanStripsWorstWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const dim = 4
	strips := []featured{
		stripOf("a", []float32{0, 0, 3, 0}, dim, rng),
		stripOf("b", []float32{1, 0, 0, 0}, dim, rng),
	}
	set := &labelledWindows{rows: &cellSet{dim: dim}, clean: strips}
	set.rows.add([]float32{5, 0, 0, 0}, true, 1)
	head := linear{W: []float64{1, 0, 0, 0}}
	hard, rows, err := set.hardened(head, set.rows, cellL2)
	if err != nil {
		t.Fatal(err)
	}
	if rows.n() != 3 {
		t.Fatalf("%d rows after the hard round, want the defective one and one window of each clean strip", rows.n())
	}
	for i, want := range []float32{3, 1} {
		got := rows.X[(i+1)*dim]
		if got != want || rows.Y[i+1] || rows.W[i+1] != 4 {
			t.Errorf("clean strip %d: added window of level %v (defective %v, weight %v), want its highest, %v, weighing 4",
				i, got, rows.Y[i+1], rows.W[i+1], want)
		}
	}
	if hard.logit([]float32{5, 0, 0, 0}) <= hard.logit([]float32{3, 0, 0, 0}) {
		t.Error("the hard head does not rank the defective window above the clean strips' worst")
	}

	capped := &cellSet{dim: 1}
	for i := range 100 {
		capped.add([]float32{float32(i)}, i%10 == 0, 1)
	}
	out := capDefectFree(capped, 30)
	if out.n() != 30 || countTrue(out.Y) != 10 {
		t.Errorf("capped to %d rows, %d defective: want 30 with all 10 defective", out.n(), countTrue(out.Y))
	}
}
