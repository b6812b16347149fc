package inference

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Size limits of the files a model consists of, checked before a byte is
// read: a hostile or broken manifest cannot make the engine read gigabytes
// (or a device such as /dev/zero) into memory.
const (
	// MaxModelFileBytes bounds a .onnx file (the bundled model is 2.6 MB,
	// large CNNs a few hundred MB; ONNX Runtime itself refuses 2 GB).
	MaxModelFileBytes = 512 << 20
	// MaxManifestBytes bounds a manifest.
	MaxManifestBytes = 1 << 20
	// MaxFamiliarityBytes bounds a familiarity statistics file.
	MaxFamiliarityBytes = 64 << 20
)

// readModelPart reads one file of a model: a regular file of at most limit
// bytes (exactly want bytes when want >= 0), opened without blocking. It
// returns the bytes and their sha256, computed while reading.
func readModelPart(path string, limit, want int64) ([]byte, string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if err := RegularFileError(st.Mode(), "a model file"); err != nil {
		return nil, "", fmt.Errorf("%s %v", path, err)
	}
	switch size := st.Size(); {
	case want >= 0 && size != want:
		return nil, "", fmt.Errorf("%s is %d bytes, want %d", path, size, want)
	case size > limit:
		return nil, "", fmt.Errorf("%s is %s, above the limit of %s for this file", path, mb(size), mb(limit))
	}
	h := sha256.New()
	data, err := io.ReadAll(io.TeeReader(io.LimitReader(f, limit+1), h))
	if err != nil {
		return nil, "", err
	}
	if int64(len(data)) > limit || (want >= 0 && int64(len(data)) != want) {
		return nil, "", fmt.Errorf("%s changed size while it was read", path)
	}
	return data, hex.EncodeToString(h.Sum(nil)), nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
