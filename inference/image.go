package inference

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/disintegration/imaging"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"steelinspect/internal/files"
)

// DefaultMaxPixels bounds the images the engine accepts: 50 megapixels is
// thirty times a 1600×256 strip and about 200 MB decoded as RGBA.
const DefaultMaxPixels = 50_000_000

// ImageExtensions are the file name extensions of the image files every
// entry point picks up from a folder (lower case): files.ImageExtensions.
var ImageExtensions = files.ImageExtensions

// IsImageFileName is files.IsImageFileName.
func IsImageFileName(name string) bool { return files.IsImageFileName(name) }

// SupportedFormats are the image formats the engine decodes.
var SupportedFormats = []string{"jpeg", "png", "bmp", "tiff"}

// Errors DecodeImage wraps, for callers that map them (the HTTP API's
// status codes): test with errors.Is.
var (
	// ErrUnsupportedFormat is returned for data that is no image the engine reads.
	ErrUnsupportedFormat = errors.New("not a supported image (JPEG, PNG, BMP or TIFF)")
	// ErrCorruptImage marks a file whose header was read but whose data is damaged.
	ErrCorruptImage = errors.New("corrupt image")
	// ErrImageTooLarge marks an image above the pixel limit.
	ErrImageTooLarge = errors.New("image too large")
	// ErrUnsupportedFeature marks a file of a supported format that uses a
	// feature the decoder does not read (JPEG-in-TIFF, CMYK or float TIFF,
	// arithmetic-coded JPEG): not damaged, just not readable here.
	ErrUnsupportedFeature = errors.New("unsupported image feature")
	// ErrEmptyImage marks empty data, or a header declaring no pixels.
	ErrEmptyImage = errors.New("empty image")
	// ErrImplausibleShape marks an image whose header declares a shape no
	// strip camera gives (a long side more than MaxStripAspect times the
	// short one), refused before decoding: scoring it would cost many
	// strips' time for no steel.
	ErrImplausibleShape = errors.New("implausible image shape")
)

// shapeError says which shape was refused, and matches ErrImplausibleShape.
type shapeError struct{ width, height int }

func (e *shapeError) Error() string {
	return fmt.Sprintf("%d×%d px has an aspect ratio of %.0f:1 that no strip camera gives (at most %d:1): refused before decoding, possible feed fault",
		e.width, e.height, float64(max(e.width, e.height))/float64(min(e.width, e.height)), MaxStripAspect)
}
func (e *shapeError) Is(target error) bool { return target == ErrImplausibleShape }

// unsupportedError names the feature a decoder does not support, and
// matches ErrUnsupportedFeature.
type unsupportedError struct {
	format string
	err    error
}

func (e *unsupportedError) Error() string {
	msg := e.err.Error()
	if i := strings.Index(msg, "unsupported feature: "); i >= 0 {
		msg = msg[i+len("unsupported feature: "):]
	} else if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, e.format) {
		msg = msg[i+2:]
	}
	switch msg {
	case "compression value 7":
		msg = "JPEG compression inside TIFF"
	case "color model":
		msg = "its colour model (CMYK or another separated one)"
	case "sample format":
		msg = "floating-point samples"
	}
	return fmt.Sprintf("unsupported %s: %s; save the strip as a baseline JPEG, a PNG or an uncompressed grey TIFF",
		strings.ToUpper(formatName(e.format)), msg)
}
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupportedFeature }
func (e *unsupportedError) Unwrap() error        { return e.err }

// isUnsupportedFeature reports a decoder's "I do not read this" error, as
// opposed to damaged data.
func isUnsupportedFeature(err error) bool {
	var t tiff.UnsupportedError
	var j jpeg.UnsupportedError
	var p png.UnsupportedError
	return errors.As(err, &t) || errors.As(err, &j) || errors.As(err, &p) || errors.Is(err, bmp.ErrUnsupported)
}

// decodeFailure classifies a decoder's error: an unsupported feature, or
// corrupt data.
func decodeFailure(format string, err error) error {
	if isUnsupportedFeature(err) {
		return &unsupportedError{format, err}
	}
	return &corruptError{format, err}
}

// emptyError matches ErrEmptyImage.
type emptyError struct{ msg string }

func (e *emptyError) Error() string        { return e.msg }
func (e *emptyError) Is(target error) bool { return target == ErrEmptyImage }

// ReadHeader reads an image's header and refuses, from it alone, what
// DecodeImage would refuse: empty data, a format the engine does not read,
// a feature its decoder does not support, a damaged header, no pixels, or
// more than maxPixels (DefaultMaxPixels when 0). The errors match the
// Err* values above, for callers that map them (the HTTP API's statuses).
func ReadHeader(data []byte, maxPixels int64) (image.Config, string, error) {
	if len(data) == 0 {
		return image.Config{}, "", &emptyError{"empty file"}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return cfg, format, ErrUnsupportedFormat
		}
		if isUnsupportedFeature(err) {
			return cfg, format, &unsupportedError{format, err}
		}
		return cfg, format, &corruptError{format, fmt.Errorf("unreadable header: %w", err)}
	}
	if !slices.Contains(SupportedFormats, format) {
		// linked-in decoders (GIF, via imaging) are not part of the engine
		return cfg, format, fmt.Errorf("%s: %w", format, ErrUnsupportedFormat)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, format, &emptyError{fmt.Sprintf("%s declares an empty image (%d×%d)", formatName(format), cfg.Width, cfg.Height)}
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return cfg, format, &tooLargeError{width: cfg.Width, height: cfg.Height, limit: maxPixels}
	}
	// the work is for the image padded to whole patches: a 1,049-byte PNG
	// of 1,000,000×1 is scored as 1,000,000×256 and held the model for 28 s
	if sw, sh := ScoredSize(cfg.Width, cfg.Height); sw*sh > maxPixels {
		return cfg, format, &tooLargeError{width: cfg.Width, height: cfg.Height, scoredWidth: sw, scoredHeight: sh, limit: maxPixels}
	}
	// a 124-byte PNG of 39000×1, scored padded to 39000×256, cost 25
	// strips' time: a shape no strip camera gives is refused unread
	if long, short := max(cfg.Width, cfg.Height), min(cfg.Width, cfg.Height); int64(long) > MaxStripAspect*int64(short) {
		return cfg, format, &shapeError{cfg.Width, cfg.Height}
	}
	return cfg, format, nil
}

// ImageFileSize reads an image file's width and height from its header
// (its first 64 KiB), without decoding it.
func ImageFileSize(path string) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	cfg, _, err := ReadHeader(head[:n], 0)
	return cfg.Width, cfg.Height, err
}

// ScoredSide is the side the engine pads an image to when it is shorter
// (the patch side of the bundled and taught models).
const ScoredSide = 256

// ScoredSize is the size of the area the engine scores for a w×h image:
// each side padded to at least ScoredSide. The pixel limit counts it.
func ScoredSize(w, h int) (int64, int64) {
	return int64(max(w, ScoredSide)), int64(max(h, ScoredSide))
}

// corruptError says what is damaged, in one line, and matches ErrCorruptImage.
type corruptError struct {
	format string
	err    error
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("corrupt %s data: %v", formatName(e.format), e.err)
}
func (e *corruptError) Is(target error) bool { return target == ErrCorruptImage }
func (e *corruptError) Unwrap() error        { return e.err }

// tooLargeError gives the size (and, when padding made it too large, the
// size scored) and the limit, and matches ErrImageTooLarge.
type tooLargeError struct {
	width, height             int
	scoredWidth, scoredHeight int64
	memory                    int64 // bytes decoding would take, when that is what is too large
	limit                     int64
}

func (e *tooLargeError) Error() string {
	if e.memory > 0 {
		return fmt.Sprintf("image is %d×%d and would take about %d MB to decode, above the limit of %d MB an image",
			e.width, e.height, e.memory>>20, e.limit>>20)
	}
	if e.scoredWidth > 0 {
		return fmt.Sprintf("image is %d×%d, scored padded to %d×%d (%.1f megapixels), above the limit of %.1f megapixels",
			e.width, e.height, e.scoredWidth, e.scoredHeight, float64(e.scoredWidth*e.scoredHeight)/1e6, float64(e.limit)/1e6)
	}
	px := float64(e.width) * float64(e.height)
	return fmt.Sprintf("image is %d×%d (%.1f megapixels), above the limit of %.1f megapixels",
		e.width, e.height, px/1e6, float64(e.limit)/1e6)
}
func (e *tooLargeError) Is(target error) bool { return target == ErrImageTooLarge }

// DecodedImage is an image with the facts about its file a record needs.
type DecodedImage struct {
	// Image is the decoded picture in grey (*image.Gray): strip cameras are
	// grey, every model takes grey (repeated over its channels), and a
	// colour picture kept as float planes cost 12 bytes a pixel (a
	// 7000×7000 PNG drove scan to 905 MB).
	Image  image.Image
	Format string
	Width  int
	Height int
	// Stats are the plausibility statistics, measured on the picture as
	// decoded (its colour included) before it became grey.
	Stats ImageStats
}

// DecodeImage decodes JPEG, PNG, BMP or TIFF bytes and applies the EXIF
// orientation. The header is read first and images above maxPixels are
// refused before any pixel is decoded, so a hostile header cannot exhaust
// memory. Decoder panics on malformed data are turned into errors.
// Greyscale JPEGs without EXIF, the strips themselves, are decoded by
// libjpeg-turbo into an *image.Gray; everything else by imaging.
func DecodeImage(data []byte, maxPixels int64) (img DecodedImage, err error) {
	cfg, format, err := ReadHeader(data, maxPixels)
	if err != nil {
		return DecodedImage{}, err
	}
	if need := DecodeMemory(cfg, format); need > MaxDecodeBytes {
		return DecodedImage{}, &tooLargeError{width: cfg.Width, height: cfg.Height, memory: need, limit: MaxDecodeBytes}
	}
	// A greyscale JPEG without EXIF, the strips' own kind, goes through
	// libjpeg-turbo (jpegturbo.go); everything else through imaging.
	var turboErr error
	if format == "jpeg" {
		gray, ok, err := decodeGrayJPEG(data, cfg)
		if ok && err == nil {
			return DecodedImage{Image: gray, Format: format, Width: cfg.Width, Height: cfg.Height, Stats: MeasureImage(gray)}, nil
		}
		// libjpeg-turbo also stops at warnings image/jpeg lets pass (stray
		// bytes before a marker, an unknown JFIF version), so a file it
		// refuses still goes to image/jpeg; libjpeg-turbo's message is
		// given only if image/jpeg fails as well.
		turboErr = err
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = DecodedImage{}, &corruptError{format, fmt.Errorf("decoder failed: %v", r)}
		}
	}()
	decoded, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		if turboErr != nil {
			err = turboErr
		}
		return DecodedImage{}, decodeFailure(format, err)
	}
	b := decoded.Bounds()
	stats := MeasureImage(decoded)
	return DecodedImage{Image: toGray(decoded), Format: format, Width: b.Dx(), Height: b.Dy(), Stats: stats}, nil
}

// MaxDecodeBytes is the memory one image may take while it is decoded (the
// decoder's picture and its grey copy); above it the image is refused
// before decoding. 256 MiB holds a 7000×7000 8-bit RGB PNG (245 MB); a
// strip takes 0.4 MB.
const MaxDecodeBytes = 256 << 20

// DecodeMemory estimates the bytes decoding an image of this header takes:
// the decoder's picture (its colour model's bytes a pixel), its grey copy,
// and for a JPEG a possible EXIF rotation's copy.
func DecodeMemory(cfg image.Config, format string) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	per := int64(4) // RGBA, NRGBA, CMYK and unknown models
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		return px // decoded straight into grey
	case color.Gray16Model, color.Alpha16Model:
		per = 2
	case color.RGBA64Model, color.NRGBA64Model:
		per = 8
	case color.YCbCrModel:
		per = 3
	}
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		per = 1
	}
	total := px*per + px
	if format == "jpeg" {
		total += 4 * px // imaging's EXIF rotation makes an NRGBA copy
	}
	return total
}

// toGray turns any decoded picture into *image.Gray (ITU-R 601 luma, the
// weights every grey conversion here uses), with fast paths for the
// decoders' usual types.
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	switch src := img.(type) {
	case *image.YCbCr:
		for y := range h {
			copy(out.Pix[y*w:(y+1)*w], src.Y[(y+b.Min.Y-src.Rect.Min.Y)*src.YStride+(b.Min.X-src.Rect.Min.X):])
		}
	case *image.RGBA:
		rgbaToGray(out.Pix, src.Pix, src.Stride, w, h)
	case *image.NRGBA:
		rgbaToGray(out.Pix, src.Pix, src.Stride, w, h)
	default:
		for y := range h {
			for x := range w {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out.Pix[y*w+x] = uint8(math.Round(float64(luma(float32(r>>8), float32(g>>8), float32(bl>>8)))))
			}
		}
	}
	return out
}

func rgbaToGray(dst, src []uint8, stride, w, h int) {
	for y := range h {
		row := src[y*stride : y*stride+4*w]
		for x := range w {
			r, g, b := float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			dst[y*w+x] = uint8(luma(r, g, b) + 0.5)
		}
	}
}

func formatName(format string) string {
	if format == "" {
		return "image"
	}
	return format
}

// pixelPlanes holds an image as float32 planes of values 0..255, channel
// after channel, ready to be cut into patches. A greyscale image keeps one
// plane even for a three-channel model: fillPatch repeats it.
type pixelPlanes struct {
	width, height, channels int
	pix                     []float32
	// gray8 is an 8-bit grey image's own pixel buffer (rows gray8Stride
	// apart), used as it is: fillRegion maps its bytes through a 256-entry
	// table straight into the model input, with no float copy of the image.
	gray8       []uint8
	gray8Stride int
}

func (p *pixelPlanes) plane(c int) []float32 {
	n := p.width * p.height
	return p.pix[c*n : (c+1)*n]
}

// toPlanes converts img for a model with the given channel count: luma for
// one channel; for three, the colour channels, or a single grey plane when
// the image is greyscale. 16-bit samples are scaled to 0..255.
func toPlanes(img image.Image, channels int) *pixelPlanes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch src := img.(type) {
	case *image.Gray:
		return &pixelPlanes{width: w, height: h, channels: 1, gray8: src.Pix, gray8Stride: src.Stride}
	case *image.Gray16:
		channels = 1
	}
	p := &pixelPlanes{width: w, height: h, channels: channels, pix: make([]float32, channels*w*h)}
	switch src := img.(type) {
	case *image.Gray16:
		out := p.plane(0)
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+2*w]
			for x := 0; x < w; x++ {
				out[y*w+x] = float32(uint16(row[2*x])<<8|uint16(row[2*x+1])) / 257
			}
		}
	case *image.YCbCr:
		if channels == 1 {
			out := p.plane(0)
			for y := 0; y < h; y++ {
				row := src.Y[y*src.YStride : y*src.YStride+w]
				for x, v := range row {
					out[y*w+x] = float32(v)
				}
			}
			return p
		}
		p.fillGeneric(img)
	case *image.NRGBA:
		p.fillRGBA8(src.Pix, src.Stride)
	case *image.RGBA:
		p.fillRGBA8(src.Pix, src.Stride)
	default:
		p.fillGeneric(img)
	}
	return p
}

func luma(r, g, b float32) float32 { return 0.299*r + 0.587*g + 0.114*b }

func (p *pixelPlanes) fillRGBA8(pix []uint8, stride int) {
	w, h := p.width, p.height
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+4*w]
		for x := 0; x < w; x++ {
			r, g, b := float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			p.set(x, y, r, g, b)
		}
	}
}

func (p *pixelPlanes) fillGeneric(img image.Image) {
	b := img.Bounds()
	for y := 0; y < p.height; y++ {
		for x := 0; x < p.width; x++ {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			p.set(x, y, float32(c.R)/257, float32(c.G)/257, float32(c.B)/257)
		}
	}
}

func (p *pixelPlanes) set(x, y int, r, g, b float32) {
	i := y*p.width + x
	if p.channels == 1 {
		p.pix[i] = luma(r, g, b)
		return
	}
	n := p.width * p.height
	p.pix[i], p.pix[n+i], p.pix[2*n+i] = r, g, b
}
