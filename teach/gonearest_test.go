package teach_test

import (
	"image"
	"math"
	"runtime"
	"sync"
	"testing"

	"steelinspect/inference"
)

// goNearest is the Go alternative to the graph's search: for every cell
// the distance to its nearest bank row, split over one goroutine per CPU.
func goNearest(cells [][]float32, bank []float32, dim int) []float32 {
	out := make([]float32, len(cells))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cells); i += workers {
				best := float32(math.Inf(1))
				q := cells[i]
				for r := 0; r+dim <= len(bank); r += dim {
					row := bank[r : r+dim : r+dim]
					var s0, s1, s2, s3 float32
					for d := 0; d+3 < dim; d += 4 {
						a, b, c, e := q[d]-row[d], q[d+1]-row[d+1], q[d+2]-row[d+2], q[d+3]-row[d+3]
						s0 += a * a
						s1 += b * b
						s2 += c * c
						s3 += e * e
					}
					best = min(best, (s0+s1)+(s2+s3))
				}
				out[i] = float32(math.Sqrt(float64(best)))
			}
		}()
	}
	wg.Wait()
	return out
}

func decodeStrip(tb testing.TB, path string) image.Image {
	tb.Helper()
	data, err := inference.ReadImageFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := inference.DecodeImage(data, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return d.Image
}

// TestGraphSearchMatchesGo checks the graph's nearest-neighbour distances
// against the plain Go search on the same features: the engine's cell map
// is the mapped distance of every cell.
func TestGraphSearchMatchesGo(t *testing.T) {
	res, _ := taughtModel(t)
	e, err := inference.NewEngine(res.Manifest, res.ONNX, "taught", inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	img := decodeStrip(t, heldoutDir+"/train_images/be1c6ebc2.jpg")
	cells, err := e.CellFeatures(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.AnalyzeFile(t.Context(), heldoutDir+"/train_images/be1c6ebc2.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want := goNearest(cells, inference.DecodeBank(res.Bank), res.Manifest.Anomaly.Bank.Dim)
	if len(want) != len(a.Cells.Values) {
		t.Fatalf("%d cell features, %d cells in the map", len(want), len(a.Cells.Values))
	}
	mapping := res.Manifest.Anomaly.Mapping
	worst, compared := 0.0, 0
	for i, d := range want {
		got := mapping.Distance(float64(a.Cells.Values[i]))
		if p := float64(a.Cells.Values[i]); p <= 1e-6 || p >= 1-1e-6 {
			continue // saturated: the inverse is not precise there
		}
		worst = max(worst, math.Abs(got-float64(d))/float64(d))
		compared++
	}
	if compared < len(want)/2 {
		t.Fatalf("only %d of %d cells unsaturated enough to compare", compared, len(want))
	}
	if worst > 1e-3 {
		t.Errorf("graph distances differ from the Go search by up to %.2g (relative)", worst)
	}
}
