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
// file's first bytes and its last tailBytes only.
func Unfinished(path string, size int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	tail := make([]byte, min(size, tailBytes))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return ""
	}
	return unfinished(head, tail, size)
}

var (
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	// pngEnd is the IEND chunk: length 0, type, CRC.
	pngEnd    = []byte("\x00\x00\x00\x00IEND\xae\x42\x60\x82")
	jpegStart = []byte{0xff, 0xd8}
	jpegEnd   = []byte{0xff, 0xd9}
)

// unfinished is Unfinished on the bytes: head (the first bytes), tail (the
// last ones) and the file's size. A JPEG's end marker cannot occur inside
// its compressed data (0xFF is stuffed there), so a file cut anywhere in
// its image data has none in its last bytes.
func unfinished(head, tail []byte, size int64) string {
	switch {
	case bytes.HasPrefix(head, pngSignature):
		if !bytes.HasSuffix(tail, pngEnd) {
			return "a PNG without its end chunk (IEND)"
		}
	case bytes.HasPrefix(head, jpegStart):
		if !bytes.Contains(tail, jpegEnd) {
			return "a JPEG without its end marker (FFD9)"
		}
	case len(head) >= 6 && head[0] == 'B' && head[1] == 'M':
		if declared := int64(binary.LittleEndian.Uint32(head[2:6])); declared > size {
			return "a BMP shorter than its header says"
		}
	}
	return ""
}
