package inference

// The hot case, a single-component greyscale JPEG strip, is decoded with
// libjpeg-turbo's TurboJPEG API, three to four times faster than image/jpeg.
// Everything else (colour, EXIF, the other formats) keeps the imaging path.

/*
#cgo LDFLAGS: -lturbojpeg
#include <turbojpeg.h>
*/
import "C"

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"strings"
	"unsafe"
)

// decodeGrayJPEG decodes a greyscale JPEG with libjpeg-turbo straight into
// an *image.Gray. cfg is the header image.DecodeConfig read (and DecodeImage
// checked against the pixel limit); libjpeg-turbo must read the same size.
//
// ok is false when the file is not for this path and nothing was decoded:
// not single-component greyscale, or it may carry an EXIF orientation, or
// libjpeg-turbo reads another size than cfg. The caller then uses the
// imaging path. With ok true, err says why libjpeg-turbo refused the data:
// warnings (a truncated file, a bad Huffman code) are errors here, so no
// partial image ever comes back. DecodeImage still lets image/jpeg try a
// refused file, since it accepts a few things libjpeg-turbo warns about.
func decodeGrayJPEG(data []byte, cfg image.Config) (img *image.Gray, ok bool, err error) {
	if len(data) == 0 || cfg.ColorModel != color.GrayModel || mayCarryEXIF(data) {
		return nil, false, nil
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, true, turboError(nil)
	}
	defer C.tjDestroy(h)

	// data holds no Go pointers, so C may read it for the call's duration.
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	size := C.ulong(len(data))
	var width, height, subsamp, colorspace C.int
	if C.tjDecompressHeader3(h, src, size, &width, &height, &subsamp, &colorspace) != 0 {
		return nil, true, turboError(h)
	}
	if width < 1 || height < 1 {
		// Only tables, no frame header: TurboJPEG reports no error for it.
		return nil, true, errors.New("no image in the JPEG data (tables only)")
	}
	if subsamp != C.TJSAMP_GRAY || int(width) != cfg.Width || int(height) != cfg.Height {
		return nil, false, nil
	}
	img = image.NewGray(image.Rect(0, 0, cfg.Width, cfg.Height))
	// Pix is a Go byte slice (no Go pointers in it): libjpeg-turbo writes
	// the rows into it directly, Stride bytes apart.
	dst := (*C.uchar)(unsafe.Pointer(&img.Pix[0]))
	const flags = C.TJFLAG_ACCURATEDCT | C.TJFLAG_STOPONWARNING
	if C.tjDecompress2(h, src, size, dst, width, C.int(img.Stride), height, C.TJPF_GRAY, flags) != 0 {
		return nil, true, turboError(h)
	}
	return img, true, nil
}

// turboError is libjpeg-turbo's message for the last failure on h (or of
// tjInitDecompress when h is nil), in one line and without the "Corrupt
// JPEG data: " some messages start with, which corruptError already says.
func turboError(h C.tjhandle) error {
	msg := strings.Join(strings.Fields(C.GoString(C.tjGetErrorStr2(h))), " ")
	msg = strings.TrimPrefix(msg, "Corrupt JPEG data: ")
	if msg == "" {
		msg = "libjpeg-turbo failed"
	}
	return errors.New(msg)
}

// mayCarryEXIF reports whether data has an APP1 marker followed by an
// "Exif" header anywhere. It is deliberately broader than a walk of the
// header segments: imaging's orientation reader can find an APP1 segment
// further on, and any file it might rotate must go its way. (Valid
// entropy-coded data cannot hold the bytes FF E1, so strips without EXIF
// are not sent away by chance.)
func mayCarryEXIF(data []byte) bool {
	exif := []byte("Exif")
	for i := 0; ; {
		j := bytes.Index(data[i:], exif)
		if j < 0 {
			return false
		}
		i += j
		// FF E1, two length bytes, then "Exif".
		if i >= 4 && data[i-4] == 0xFF && data[i-3] == 0xE1 {
			return true
		}
		i++
	}
}
