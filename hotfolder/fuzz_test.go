package hotfolder

import (
	"bytes"
	"testing"

	"steelinspect/internal/testimg"
)

// FuzzUnfinished feeds the truncation check arbitrary bytes and arbitrary
// cuts of real strips: it must never panic, must call every whole strip
// finished, and every strictly shorter prefix of one unfinished (a file
// still being written is never taken for a whole one).
// `go test ./hotfolder -run '^$' -fuzz Unfinished -fuzztime 60s`
func FuzzUnfinished(f *testing.F) {
	img := testimg.TexturedStrip(320, 256, 40, 90, 200)
	whole := map[string][]byte{"png": testimg.PNG(img), "jpeg": testimg.JPEG(img), "bmp": testimg.BMP(img),
		"jpeg with a thumbnail": testimg.JPEGWithThumbnail(img), "tiff": testimg.TIFF(img)}
	for _, d := range whole {
		f.Add(d[:len(d)/2], uint32(len(d)/3))
	}
	f.Add([]byte("BM\xff\xff\xff\xff"), uint32(3))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xd9}, uint32(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint32) {
		_ = unfinished(bytes.NewReader(data), int64(len(data)))
		for name, d := range whole {
			if got := unfinished(bytes.NewReader(d), int64(len(d))); got != "" {
				t.Fatalf("whole %s judged unfinished: %s", name, got)
			}
			n := 8 + int(cut)%(len(d)-8) // a strict prefix that still has the header
			p := d[:n]
			if unfinished(bytes.NewReader(p), int64(n)) == "" {
				t.Fatalf("%s cut at %d of %d judged finished", name, n, len(d))
			}
		}
	})
}
