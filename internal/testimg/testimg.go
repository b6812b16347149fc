// Package testimg makes the images the tests feed the engine: strips whose
// per-patch brightness is known exactly (the tiny test models score a patch
// by its mean brightness), and hostile files such as a PNG header declaring
// an enormous image. Only tests import it.
package testimg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
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

// StripPNG is a plausible 1600×256 strip encoded as PNG: TexturedStrip,
// so that the engine's plausibility checks (black, saturated or uniform
// frames go to review) see texture and leave the decision to the model.
func StripPNG(x0, x1 int, v uint8) []byte {
	return PNG(TexturedStrip(1600, 256, x0, x1, v))
}

// Texture levels of TexturedStrip.
const (
	// TextureBackground is the mean of a textured strip's background (a
	// 0/2·TextureBackground checkerboard).
	TextureBackground = 20
	// TextureWhite is the mean a band of value 255 is drawn with (a
	// 215/255 checkerboard): bright, but not a saturated frame.
	TextureWhite = 235
)

// TexturedStrip is BandStrip with a one-pixel checkerboard texture: the
// background alternates 0 and 2·TextureBackground, the band v±a with
// a = min(20, v, 255−v) (a band of 0 is drawn as the background, one of
// 255 as TextureWhite±20). Every
// 2×2 block, hence every even-sized patch on the pixel grid, has the mean
// of its level exactly.
func TexturedStrip(w, h, x0, x1 int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	level := int(v)
	switch level {
	case 0:
		level = TextureBackground // a black band is drawn as the background
	case 255:
		level = TextureWhite
	}
	amp := min(20, level, 255-level)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sign := 1 - 2*((x+y)&1)
			if x >= x0 && x < x1 {
				img.Pix[y*img.Stride+x] = uint8(level + sign*amp)
			} else {
				img.Pix[y*img.Stride+x] = uint8(TextureBackground + sign*TextureBackground)
			}
		}
	}
	return img
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

// JPEGWithThumbnail is JPEG(img) carrying an EXIF block (APP1) right
// after its start marker, holding a small JPEG thumbnail with its own end
// marker, as cameras write: the whole file's end marker is not the first
// FFD9 in it.
func JPEGWithThumbnail(img image.Image) []byte {
	thumb := JPEG(image.NewGray(image.Rect(0, 0, 16, 16)))
	app1 := append([]byte("Exif\x00\x00"), thumb...)
	main := JPEG(img)
	out := append([]byte{}, main[:2]...)
	out = append(out, 0xff, 0xe1, byte((len(app1)+2)>>8), byte(len(app1)+2))
	out = append(out, app1...)
	return append(out, main[2:]...)
}

// TIFF encodes img as an uncompressed TIFF (image data first, its
// directory after it, as x/image/tiff and many writers do).
func TIFF(img image.Image) []byte {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, img, nil); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PNGHeaderOnly is a PNG whose IHDR declares w×h but which has no pixels:
// what a decoder must refuse by size before allocating anything.
func PNGHeaderOnly(w, h uint32) []byte { return PNGHeaderOnlyOf(w, h, 8, 0) }

// PNGHeaderOnlyOf is PNGHeaderOnly with the IHDR's bit depth and colour
// type (0 grey, 2 RGB, 6 RGBA).
func PNGHeaderOnlyOf(w, h uint32, depth, colourType uint8) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colourType
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TIFF tags TIFFWithTag can change, and the values that make a baseline
// decoder give up: a feature, not damage.
const (
	TIFFCompression   = 259 // 7: JPEG-in-TIFF
	TIFFPhotometric   = 262 // 5: separated (CMYK)
	TIFFBitsPerSample = 258 // 32: float samples
)

// TIFFWithTag encodes img as an uncompressed TIFF and sets the SHORT tag
// to value in its first IFD (the tag must be one the encoder writes).
func TIFFWithTag(img image.Image, tag, value uint16) []byte {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, img, nil); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	le := binary.LittleEndian // x/image/tiff writes "II"
	ifd := le.Uint32(b[4:])
	n := int(le.Uint16(b[ifd:]))
	for i := range n {
		e := int(ifd) + 2 + 12*i
		if le.Uint16(b[e:]) == tag {
			le.PutUint16(b[e+8:], value)
			return b
		}
	}
	panic(fmt.Sprintf("tag %d not written by the encoder", tag))
}

// BMP encodes img as a BMP.
func BMP(img image.Image) []byte {
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
