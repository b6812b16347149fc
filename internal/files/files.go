// Package files holds the file-system rules every command shares: which
// files in a folder are images to score, how a result file is written
// so that no reader ever sees half of it, and how a password is read
// from its file.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"steelinspect/inference"
)

// Found is one image file of a folder, or a path that could not be listed.
type Found struct {
	Path string
	Err  error
}

// WalkImages lists the image files under dir, recursively and in name
// order (inference.IsImageFileName decides what an image file is). Paths
// that cannot be listed, and image names that are not regular files (a
// named pipe called cam.jpg), come back with their error, in their place:
// nothing listed here can block its reader.
func WalkImages(dir string) []Found {
	var found []Found
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			found = append(found, Found{Path: path, Err: fmt.Errorf("cannot list: %w", errors.Unwrap(err))})
			return nil
		}
		if d.IsDir() || !inference.IsImageFileName(path) {
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				found = append(found, Found{Path: path, Err: fmt.Errorf("cannot open: %w", errors.Unwrap(err))})
				return nil
			}
			mode = st.Mode()
		}
		found = append(found, Found{Path: path, Err: inference.RegularFileError(mode, "an image file")})
		return nil
	})
	if walkErr != nil {
		found = append(found, Found{Path: dir, Err: walkErr})
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Path < found[j].Path })
	return found
}

// WriteAtomic writes data to path through a temporary file in the same
// folder, synced, and a rename, so a reader never sees a half-written file.
func WriteAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadPassword reads a password kept in a file (never on a command line
// or in the preferences): the file's content without its line end.
func ReadPassword(path string) (string, error) {
	pw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(pw), "\r\n"), nil
}
