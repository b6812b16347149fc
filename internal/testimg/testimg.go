// Package testimg makes the images the tests feed the engine: strips whose
// per-patch brightness is known exactly (the tiny test models score a patch
// by its mean brightness), and hostile files such as a PNG header declaring
// an enormous image. Only tests import it.
package testimg

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
)

// BandStrip is a w×h grey image whose columns [x0,x1) have value v and the
// rest black.
func BandStrip(w, h, x0, x1 int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := max(x0, 0); x < x1 && x < w; x++ {
			img.Pix[y*img.Stride+x] = v
		}
	}
	return img
}

// StripPNG is a 1600×256 BandStrip encoded as PNG.
func StripPNG(x0, x1 int, v uint8) []byte {
	return PNG(BandStrip(1600, 256, x0, x1, v))
}

// PNG encodes img; encoding an in-memory image cannot fail.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// JPEG encodes img at quality 95.
func JPEG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PNGHeaderOnly is a PNG whose IHDR declares w×h but which has no pixels:
// what a decoder must refuse by size before allocating anything.
func PNGHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}
