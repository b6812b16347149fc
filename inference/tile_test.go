package inference

import (
	"image"
	"testing"
)

func TestTilePatches(t *testing.T) {
	cases := []struct {
		w, h  int
		count int
		last  image.Rectangle
	}{
		{1600, 256, 12, image.Rect(1344, 0, 1600, 256)},
		{256, 256, 1, image.Rect(0, 0, 256, 256)},
		{384, 256, 2, image.Rect(128, 0, 384, 256)},
		{300, 300, 4, image.Rect(44, 44, 300, 300)},
		{100, 50, 1, image.Rect(0, 0, 100, 50)},
		{1600, 100, 12, image.Rect(1344, 0, 1600, 100)},
	}
	for _, c := range cases {
		rects := TilePatches(c.w, c.h, 256, 128)
		if len(rects) != c.count || rects[len(rects)-1] != c.last {
			t.Errorf("%dx%d: %d patches, last %v; want %d, last %v", c.w, c.h, len(rects), rects[len(rects)-1], c.count, c.last)
		}
		assertCovers(t, c.w, c.h, rects)
	}
}

// assertCovers fails unless every pixel of a w×h image lies in some patch.
func assertCovers(t testing.TB, w, h int, rects []image.Rectangle) {
	t.Helper()
	covered := make([]bool, w*h)
	for _, r := range rects {
		if !r.In(image.Rect(0, 0, w, h)) {
			t.Fatalf("%dx%d: patch %v leaves the image", w, h, r)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				covered[y*w+x] = true
			}
		}
	}
	for i, ok := range covered {
		if !ok {
			t.Fatalf("%dx%d: pixel (%d,%d) is in no patch", w, h, i%w, i/w)
		}
	}
}

func TestFillPatchLayoutsAndPadding(t *testing.T) {
	// 3×2 RGB image, patch size 4: pixels past the edge repeat the edge.
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	planes := toPlanes(img, 3)
	pre := &Preprocessing{Scale: 1, Mean: []float64{0, 0, 0}, Std: []float64{1, 1, 1}}
	nchw := make([]float32, 3*4*4)
	fillPatch(nchw, planes, image.Rect(0, 0, 3, 2), 4, "NCHW", pre)
	nhwc := make([]float32, 3*4*4)
	fillPatch(nhwc, planes, image.Rect(0, 0, 3, 2), 4, "NHWC", pre)
	for c := 0; c < 3; c++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				sx, sy := min(x, 2), min(y, 1)
				want := float32(img.Pix[sy*img.Stride+sx*4+c])
				if got := nchw[(c*4+y)*4+x]; got != want {
					t.Fatalf("NCHW c%d (%d,%d) = %v, want %v", c, x, y, got, want)
				}
				if got := nhwc[(y*4+x)*3+c]; got != want {
					t.Fatalf("NHWC c%d (%d,%d) = %v, want %v", c, x, y, got, want)
				}
			}
		}
	}
}

func TestPreprocessingScaling(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Pix[0] = 255
	planes := toPlanes(img, 3)
	pre := &Preprocessing{Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	dst := make([]float32, 3*2*2)
	fillPatch(dst, planes, image.Rect(0, 0, 2, 2), 2, "NCHW", pre)
	for c := 0; c < 3; c++ {
		want := float32((1 - pre.Mean[c]) / pre.Std[c])
		if got := dst[c*4]; abs32(got-want) > 1e-5 {
			t.Errorf("channel %d white pixel = %v, want %v", c, got, want)
		}
		want0 := float32(-pre.Mean[c] / pre.Std[c])
		if got := dst[c*4+1]; abs32(got-want0) > 1e-5 {
			t.Errorf("channel %d black pixel = %v, want %v", c, got, want0)
		}
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
