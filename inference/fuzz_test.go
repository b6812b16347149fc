package inference

import "testing"

// FuzzDecodeAndTile feeds arbitrary bytes through the decoder, the tiler and
// the preprocessing: none may panic, and every decoded image must be fully
// covered by in-bounds patches.
func FuzzDecodeAndTile(f *testing.F) {
	f.Add(encodePNG(f, bandStrip(40, 30, 5, 9, 200)))
	f.Add(encodeJPEG(f, bandStrip(33, 17, 0, 4, 255)))
	f.Add(pngHeaderOnly(60000, 60000))
	f.Add([]byte("BM\x00\x00"))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Add([]byte{})
	pres := map[int]*Preprocessing{
		1: {Scale: 1.0 / 255, Mean: []float64{0.5}, Std: []float64{0.25}},
		3: {Scale: 1.0 / 255, Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.25, 0.25, 0.25}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(data, 1<<20)
		if err != nil {
			return
		}
		const size, stride = 16, 8
		rects := TilePatches(img.Width, img.Height, size, stride)
		assertCovers(t, img.Width, img.Height, rects)
		for _, ch := range []int{1, 3} {
			planes := toPlanes(img.Image, ch)
			dst := make([]float32, ch*size*size)
			for _, r := range rects {
				fillPatch(dst, planes, r, size, "NHWC", pres[ch])
			}
		}
	})
}
