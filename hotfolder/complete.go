package hotfolder

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
)

// tailBytes is how much of a file's end Unfinished reads: enough to hold a
// JPEG's end marker after the padding some cameras add.
const tailBytes = 1024

// Unfinished says why the file at path, size bytes long, visibly lacks its
// end ("" when it looks whole or its format cannot tell). It reads the
// file's headers (a JPEG's segments up to its image data, a TIFF's first
// directory) and its last tailBytes, never the image data.
func Unfinished(path string, size int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	return unfinished(f, size)
}

var (
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	// pngEnd is the IEND chunk: length 0, type, CRC.
	pngEnd    = []byte("\x00\x00\x00\x00IEND\xae\x42\x60\x82")
	jpegStart = []byte{0xff, 0xd8}
	jpegEnd   = []byte{0xff, 0xd9}
)

// unfinished is Unfinished on r, size bytes long.
func unfinished(r io.ReaderAt, size int64) string {
	head := make([]byte, 8)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, pngSignature):
		if !bytes.HasSuffix(readTail(r, size), pngEnd) {
			return "a PNG without its end chunk (IEND)"
		}
	case bytes.HasPrefix(head, jpegStart):
		return jpegUnfinished(r, size)
	case len(head) >= 6 && head[0] == 'B' && head[1] == 'M':
		if declared := int64(binary.LittleEndian.Uint32(head[2:6])); declared > size {
			return "a BMP shorter than its header says"
		}
	case len(head) == 8 && (string(head[:4]) == "II*\x00" || string(head[:4]) == "MM\x00*"):
		return tiffUnfinished(r, size, head)
	}
	return ""
}

// readTail is the last tailBytes of r (all of it when shorter).
func readTail(r io.ReaderAt, size int64) []byte {
	tail := make([]byte, min(size, tailBytes))
	n, _ := r.ReadAt(tail, size-int64(len(tail)))
	return tail[:n]
}

// maxSegments bounds the JPEG segments walked before the image data.
const maxSegments = 1024

// jpegUnfinished walks a JPEG's segments by their lengths up to its first
// scan (SOS), skipping what they hold, an EXIF thumbnail with its own end
// marker included, then looks for the end marker after it. A file cut
// inside its headers has a segment running past its end; one cut in its
// image data has no end marker there (0xFF is stuffed inside the
// compressed data, so FFD9 cannot occur in it).
func jpegUnfinished(r io.ReaderAt, size int64) string {
	pos := int64(2)
	seg := make([]byte, 4)
	for range maxSegments {
		if n, _ := r.ReadAt(seg, pos); n < len(seg) {
			return "a JPEG cut inside its headers"
		}
		if seg[0] != 0xff {
			return "" // not a segment: the decoder will say what is wrong
		}
		switch m := seg[1]; {
		case m == 0xff: // fill byte before a marker
			pos++
			continue
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // markers without a length
			pos += 2
			continue
		case m == 0xda: // start of scan: the image data follows
			tail := readTail(r, size)
			i := bytes.LastIndex(tail, jpegEnd)
			if i < 0 || size-int64(len(tail))+int64(i) < pos {
				return "a JPEG without its end marker (FFD9)"
			}
			return ""
		}
		pos += 2 + int64(binary.BigEndian.Uint16(seg[2:]))
	}
	return ""
}

// TIFF tags that say where the image data lies.
const (
	tiffStripOffsets    = 273
	tiffStripByteCounts = 279
	tiffTileOffsets     = 324
	tiffTileByteCounts  = 325
	// maxTIFFParts bounds the strips or tiles read (a 1600×256 strip has a
	// few dozen at most).
	maxTIFFParts = 1 << 16
)

// tiffUnfinished reads a TIFF's first directory, which writers put either
// before the image data or after it, and checks that the directory, the
// values it keeps elsewhere and every strip or tile it names lie inside
// the file.
func tiffUnfinished(r io.ReaderAt, size int64, head []byte) string {
	var bo binary.ByteOrder = binary.LittleEndian
	if head[0] == 'M' {
		bo = binary.BigEndian
	}
	ifd := int64(bo.Uint32(head[4:]))
	count := make([]byte, 2)
	if n, _ := r.ReadAt(count, ifd); n < 2 {
		return "a TIFF whose directory lies past its end"
	}
	// the entries and the next directory's offset after them
	entries := make([]byte, 12*int64(bo.Uint16(count))+4)
	if n, _ := r.ReadAt(entries, ifd+2); n < len(entries) {
		return "a TIFF whose directory lies past its end"
	}
	entries = entries[:len(entries)-4]
	values := map[uint16][]int64{}
	var end int64 // where the last value kept outside the directory ends
	for e := 0; e+12 <= len(entries); e += 12 {
		tag := bo.Uint16(entries[e:])
		if n := int64(bo.Uint32(entries[e+4:])) * tiffTypeSize[bo.Uint16(entries[e+2:])]; n > 4 {
			end = max(end, int64(bo.Uint32(entries[e+8:]))+n)
		}
		if tag == tiffStripOffsets || tag == tiffStripByteCounts || tag == tiffTileOffsets || tag == tiffTileByteCounts {
			values[tag] = tiffValues(r, bo, entries[e:e+12])
		}
	}
	end = max(end, dataEnd(values[tiffStripOffsets], values[tiffStripByteCounts]))
	end = max(end, dataEnd(values[tiffTileOffsets], values[tiffTileByteCounts]))
	if end > size {
		return "a TIFF shorter than the image data its directory names"
	}
	return ""
}

// tiffTypeSize is the size in bytes of a value of each TIFF field type.
var tiffTypeSize = map[uint16]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// tiffValues reads a SHORT or LONG entry's values, inline or where its
// offset points; nil for another type or values past the file's end.
func tiffValues(r io.ReaderAt, bo binary.ByteOrder, entry []byte) []int64 {
	typ, n := bo.Uint16(entry[2:]), int64(bo.Uint32(entry[4:]))
	width := tiffTypeSize[typ]
	if (typ != 3 && typ != 4) || n == 0 || n > maxTIFFParts {
		return nil
	}
	raw := entry[8:12]
	if n*width > 4 {
		raw = make([]byte, n*width)
		if k, _ := r.ReadAt(raw, int64(bo.Uint32(entry[8:]))); k < len(raw) {
			return []int64{1 << 40} // the array itself is past the end
		}
	}
	out := make([]int64, n)
	for i := range out {
		if width == 2 {
			out[i] = int64(bo.Uint16(raw[2*i:]))
		} else {
			out[i] = int64(bo.Uint32(raw[4*i:]))
		}
	}
	return out
}

// dataEnd is where the last strip or tile ends.
func dataEnd(offsets, counts []int64) int64 {
	var end int64
	for i := range min(len(offsets), len(counts)) {
		end = max(end, offsets[i]+counts[i])
	}
	if len(offsets) > 0 && len(counts) == 0 { // a directory read only in part
		end = max(end, offsets[len(offsets)-1])
	}
	return end
}
