package inference

import "image"

// patchStarts lists where patches begin along one axis of the given length:
// every stride from 0, plus one final patch flush with the far edge when the
// regular steps leave pixels uncovered. A length shorter than the patch gives
// a single patch at 0 (the engine pads it).
func patchStarts(length, size, stride int) []int {
	if length <= size {
		return []int{0}
	}
	var starts []int
	for s := 0; s+size <= length; s += stride {
		starts = append(starts, s)
	}
	if last := starts[len(starts)-1]; last+size < length {
		starts = append(starts, length-size)
	}
	return starts
}

// TilePatches returns the patch rectangles that cover every pixel of a
// width×height image, row by row. Rectangles are clipped to the image, so a
// patch of an image smaller than size is smaller too.
//
// A 1600×256 strip with size 256 and stride 128 gives 12 patches: x = 0, 128,
// …, 1280 and a last one at 1344 flush with the right edge.
func TilePatches(width, height, size, stride int) []image.Rectangle {
	xs := patchStarts(width, size, stride)
	ys := patchStarts(height, size, stride)
	rects := make([]image.Rectangle, 0, len(xs)*len(ys))
	for _, y := range ys {
		for _, x := range xs {
			rects = append(rects, image.Rect(x, y, min(x+size, width), min(y+size, height)))
		}
	}
	return rects
}

// fillPatch writes the size×size patch whose top-left corner is r.Min into
// dst (one patch's worth of model input).
func fillPatch(dst []float32, planes *pixelPlanes, r image.Rectangle, size int, layout string, pre *Preprocessing) {
	fillRegion(dst, planes, r.Min, size, size, layout, pre)
}

// fillRegion writes the w×h region whose top-left corner is at into dst
// with the manifest's scaling and layout, straight from the decoded planes.
// Pixels beyond the image edge repeat the nearest edge pixel; a single grey
// plane feeds every channel of a three-channel model.
func fillRegion(dst []float32, planes *pixelPlanes, at image.Point, w, h int, layout string, pre *Preprocessing) {
	if planes.gray8 != nil {
		fillRegionGray8(dst, planes, at, w, h, layout, pre)
		return
	}
	iw, ih, nc := planes.width, planes.height, len(pre.Mean)
	inside := at.X+w <= iw && at.Y+h <= ih
	for c := 0; c < nc; c++ {
		src := planes.plane(min(c, planes.channels-1))
		gain := float32(pre.Scale / pre.Std[c])
		offset := float32(pre.Mean[c] / pre.Std[c])
		for py := 0; py < h; py++ {
			sy := min(at.Y+py, ih-1)
			row := src[sy*iw : sy*iw+iw]
			if layout == "NCHW" {
				out := dst[(c*h+py)*w : (c*h+py+1)*w]
				if inside {
					for px, v := range row[at.X : at.X+w] {
						out[px] = v*gain - offset
					}
					continue
				}
				for px := range out {
					out[px] = row[min(at.X+px, iw-1)]*gain - offset
				}
				continue
			}
			// NHWC: channels interleaved within each pixel.
			base := py * w * nc
			for px := 0; px < w; px++ {
				dst[base+px*nc+c] = row[min(at.X+px, iw-1)]*gain - offset
			}
		}
	}
}

// fillRegionGray8 is fillRegion for an 8-bit grey image: each channel's
// scaling is a 256-entry table, applied to the image's bytes directly.
func fillRegionGray8(dst []float32, planes *pixelPlanes, at image.Point, w, h int, layout string, pre *Preprocessing) {
	iw, ih, nc := planes.width, planes.height, len(pre.Mean)
	var lut [256]float32
	for c := 0; c < nc; c++ {
		gain := float32(pre.Scale / pre.Std[c])
		offset := float32(pre.Mean[c] / pre.Std[c])
		for v := range lut {
			lut[v] = float32(v)*gain - offset
		}
		for py := 0; py < h; py++ {
			sy := min(at.Y+py, ih-1)
			row := planes.gray8[sy*planes.gray8Stride : sy*planes.gray8Stride+iw]
			if layout == "NCHW" {
				out := dst[(c*h+py)*w : (c*h+py+1)*w]
				if at.X+w <= iw {
					for px, v := range row[at.X : at.X+w] {
						out[px] = lut[v]
					}
					continue
				}
				for px := range out {
					out[px] = lut[row[min(at.X+px, iw-1)]]
				}
				continue
			}
			base := py * w * nc
			for px := 0; px < w; px++ {
				dst[base+px*nc+c] = lut[row[min(at.X+px, iw-1)]]
			}
		}
	}
}
