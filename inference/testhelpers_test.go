package inference

import (
	"bytes"
	"encoding/binary"
	"image"
	"path/filepath"
	"testing"

	"steelinspect/internal/testimg"
)

// tinyModel is the path of one of the mean-brightness test models.
func tinyModel(name string) string {
	return filepath.Join("..", "testdata", "models", name+".manifest.json")
}

func openTiny(t testing.TB, name string, opts EngineOptions) *Engine {
	t.Helper()
	e, err := OpenModel(tinyModel(name), opts)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// bandStrip makes a grey strip whose columns [x0,x1) are bright (value v)
// and the rest black, so each patch's mean brightness is known exactly.
func bandStrip(w, h, x0, x1 int, v uint8) *image.Gray { return testimg.BandStrip(w, h, x0, x1, v) }

// meanOver computes the mean of img over r divided by 255, the exact output
// of the tiny models for an in-bounds patch.
func meanOver(img *image.Gray, r image.Rectangle) float64 {
	sum := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += float64(img.GrayAt(x, y).Y)
		}
	}
	return sum / float64(r.Dx()*r.Dy()) / 255
}

func encodePNG(_ testing.TB, img image.Image) []byte  { return testimg.PNG(img) }
func encodeJPEG(_ testing.TB, img image.Image) []byte { return testimg.JPEG(img) }
func pngHeaderOnly(w, h uint32) []byte                { return testimg.PNGHeaderOnly(w, h) }

// withEXIFOrientation inserts an APP1 EXIF segment with the given
// orientation tag right after a JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8)) // IFD offset
	binary.Write(&tiff, binary.BigEndian, uint16(1)) // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112))
	binary.Write(&tiff, binary.BigEndian, uint16(3)) // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, orientation)
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(payload)+2))
	out.Write(payload)
	out.Write(jpg[2:])
	return out.Bytes()
}
