package inference

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// gaussianFeatures draws n vectors of dim values from a Gaussian with a few
// strong directions (what window features look like), shifted by offset.
func gaussianFeatures(n, dim int, offset float64, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		a, b := r.NormFloat64()*5, r.NormFloat64()*3
		for d := range v {
			v[d] = float32(a*math.Sin(float64(d)) + b*math.Cos(float64(d)/3) + 0.5*r.NormFloat64() + offset)
		}
		out[i] = v
	}
	return out
}

func TestFamiliarityFitAndScore(t *testing.T) {
	train := gaussianFeatures(600, 48, 0, 1)
	stats, err := FitFamiliarity(train, 8)
	if err != nil {
		t.Fatal(err)
	}
	mean := func(fs [][]float32) float64 {
		s := 0.0
		for _, f := range fs {
			s += stats.WindowScore(f, 1)
		}
		return s / float64(len(fs))
	}
	same, shifted := mean(gaussianFeatures(200, 48, 0, 2)), mean(gaussianFeatures(200, 48, 2, 3))
	if same < 0.7 || same > 1.3 {
		t.Errorf("windows like the training ones score %.2f on average, want about 1", same)
	}
	if shifted < 2*same {
		t.Errorf("shifted windows score %.2f, familiar ones %.2f: not told apart", shifted, same)
	}
	// features laid out [D, cols]: the same vector read with a stride
	f := train[5]
	strided := make([]float32, len(f)*3)
	for d, v := range f {
		strided[d*3+1] = v
	}
	if a, b := stats.WindowScore(f, 1), stats.WindowScore(strided[1:], 3); math.Abs(a-b) > 1e-9 {
		t.Errorf("strided score %v, contiguous %v", b, a)
	}

	// the file round-trips to the same scores (float32 precision)
	data, err := stats.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseFamiliarityStats(data)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := stats.WindowScore(f, 1), back.WindowScore(f, 1); math.Abs(a-b) > 1e-4*a {
		t.Errorf("score after reloading %v, before %v", b, a)
	}

	// the limit leaves the asked share familiar, times the margin
	limit, err := FamiliarityLimit([]float64{1, 1.1, 1.2, 1.3, 5}, 0.8, 1.25)
	if err != nil || math.Abs(limit-1.63) > 1e-9 {
		t.Errorf("limit %v, %v; want 1.3*1.25 rounded up to 1.63", limit, err)
	}
}

func TestFamiliarityBadInput(t *testing.T) {
	if _, err := FitFamiliarity(gaussianFeatures(5, 48, 0, 1), 8); err == nil {
		t.Error("8 components from 5 windows accepted")
	}
	for _, c := range []struct{ json, want string }{
		{`{`, "not valid JSON"},
		{`{"dim":2,"mean":[0],"components":[[1,0]],"variances":[1],"residual":1}`, "mean has 1 values"},
		{`{"dim":2,"mean":[0,0],"components":[[1,0]],"variances":[0],"residual":1}`, "variance 0 must be positive"},
		{`{"dim":2,"mean":[0,0],"components":[[1,0]],"variances":[1],"residual":0}`, "residual must be positive"},
		{`{"dim":2,"mean":[0,0],"components":[[1]],"variances":[1],"residual":1}`, "component 0 has 1 values"},
	} {
		if _, err := ParseFamiliarityStats([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
	// a familiarity file whose hash differs from the manifest's is refused
	stats, _ := FitFamiliarity(gaussianFeatures(100, 16, 0, 1), 4)
	data, _ := stats.Marshal()
	sum := sha256.Sum256(data)
	m := &Manifest{Name: "m", Familiarity: &FamiliaritySpec{File: "m.familiarity.json", SHA256: hex.EncodeToString(sum[:]), Limit: 2}}
	if err := m.AttachFamiliarity(data); err != nil {
		t.Fatalf("matching file refused: %v", err)
	}
	data[len(data)-2] ^= 1
	if err := m.AttachFamiliarity(data); err == nil || !strings.Contains(err.Error(), "hash mismatch") {
		t.Errorf("altered file: %v", err)
	}
}

// BenchmarkStripFamiliarity is the Go side of a strip's familiarity: the
// 12 patch scores of a 1600×256 strip with the bundled model's sizes (1280
// features, 32 components), read out of a [D, 1, 43] feature map.
func BenchmarkStripFamiliarity(b *testing.B) {
	const dim, cols = 1280, 43
	stats, err := FitFamiliarity(gaussianFeatures(400, dim, 0, 1), 32)
	if err != nil {
		b.Fatal(err)
	}
	feats := make([]float32, dim*cols)
	for i := range feats {
		feats[i] = float32(i%97) / 97
	}
	b.ResetTimer()
	for range b.N {
		for p := range 12 {
			stats.WindowScore(feats[p*3:], cols)
		}
	}
}

// TestLongFeaturesFindTheSameComponents: past exactComponentsDim the
// components come from a randomised range finder; on features with a
// decaying spectrum they must be the exact ones (the same variances, the
// same directions up to sign), and so must the familiarity scores.
func TestLongFeaturesFindTheSameComponents(t *testing.T) {
	const n, dim, k = 500, exactComponentsDim + 64, 12
	r := rand.New(rand.NewPCG(3, 9))
	x := mat.NewDense(n, dim, nil)
	for i := range n {
		for c := range 40 {
			a := r.NormFloat64() * 10 / float64(c+1)
			for d := range dim {
				x.Set(i, d, x.At(i, d)+a*math.Sin(float64((c+1)*d)/7+float64(c)))
			}
		}
		for d := range dim {
			x.Set(i, d, x.At(i, d)+0.1*r.NormFloat64())
		}
	}
	for d := range dim { // centred, as FitFamiliarity hands them over
		col := mat.Col(nil, d, x)
		var mean float64
		for _, v := range col {
			mean += v / n
		}
		for i := range n {
			x.Set(i, d, x.At(i, d)-mean)
		}
	}
	gotV, got, err := principalComponents(x, k)
	if err != nil {
		t.Fatal(err)
	}
	wantV, want, err := exactComponents(x, k)
	if err != nil {
		t.Fatal(err)
	}
	for j := range k {
		if math.Abs(got[j]-want[j]) > 1e-3*want[j] {
			t.Errorf("component %d: variance %.6g, exactly %.6g", j, got[j], want[j])
		}
		if c := math.Abs(floats.Dot(gotV[j], wantV[j])); c < 0.999 {
			t.Errorf("component %d: |cos| with the exact direction %.4f", j, c)
		}
	}
}
