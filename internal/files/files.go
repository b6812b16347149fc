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
	"slices"
	"sort"
	"strings"
)

// ImageExtensions are the file name extensions of the image files every
// entry point picks up from a folder (lower case).
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}

// IsImageFileName says whether a file name has one of ImageExtensions, in
// any case.
func IsImageFileName(name string) bool {
	return slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(name)))
}

// RegularFileError says why a file of the given mode cannot be read as
// what (e.g. "an image file"); nil for a regular file. The one rule for
// what a reader takes: nothing that can block it or never end.
func RegularFileError(mode os.FileMode, what string) error {
	var is string
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		is = "a folder"
	case mode&os.ModeNamedPipe != 0:
		is = "a named pipe (FIFO)"
	case mode&os.ModeSocket != 0:
		is = "a socket"
	case mode&os.ModeDevice != 0:
		is = "a device"
	default:
		is = "a special file"
	}
	return fmt.Errorf("is %s, not %s", is, what)
}

// Found is one image file of a folder, or a path that could not be listed.
type Found struct {
	Path string
	Err  error
}

// The one rule for listing the images of a folder, whoever lists it (scan,
// teach, learn, eval, bench, the window's folders and Calibrate, the hot
// folder):
//
//   - the folder named is followed when it is a symbolic link: the person
//     chose it;
//   - an image is a name with an image extension (IsImageFileName)
//     that is not hidden or still being written (Ignored: a dot-file, .part,
//     .tmp);
//   - an image that is a link is followed to what it points to;
//   - what is named like an image but is no regular file (a named pipe, a
//     device, a folder called cam.png, a link to one, a broken link) is
//     listed with the reason it is skipped, so that the caller says so once;
//   - subfolders are listed when recursive, but not links to folders (they
//     could loop), which are skipped with their reason.
//
// Entries come in name order.

// Ignored says whether a file name is left alone: not an image name, or
// one a writer uses until the file is complete (a dot-file, .part, .tmp).
func Ignored(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(name, ".") || strings.HasSuffix(lower, ".part") || strings.HasSuffix(lower, ".tmp") ||
		!IsImageFileName(name)
}

// ListImages lists the images in dir, and in its subfolders when
// recursive, by the rule above. A Found with Err is an entry skipped (or a
// folder that could not be listed) and why; the others are images to read.
func ListImages(dir string, recursive bool) []Found {
	var found []Found
	listInto(&found, dir, recursive, true)
	sort.SliceStable(found, func(i, j int) bool { return found[i].Path < found[j].Path })
	return found
}

func listInto(found *[]Found, dir string, recursive, top bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if top || !errors.Is(err, fs.ErrNotExist) {
			*found = append(*found, Found{Path: dir, Err: fmt.Errorf("cannot list: %w", unwrapPath(err))})
		}
		return
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		mode := e.Type()
		if e.IsDir() {
			if recursive && !strings.HasPrefix(e.Name(), ".") {
				listInto(found, path, recursive, false)
				continue
			}
		}
		if Ignored(e.Name()) {
			if mode&fs.ModeSymlink != 0 && recursive {
				if st, err := os.Stat(path); err == nil && st.IsDir() {
					*found = append(*found, Found{Path: path, Err: errors.New("a link to a folder: not followed")})
				}
			}
			continue
		}
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				*found = append(*found, Found{Path: path, Err: fmt.Errorf("a link to nothing: %w", unwrapPath(err))})
				continue
			}
			mode = st.Mode()
		}
		*found = append(*found, Found{Path: path, Err: RegularFileError(mode, "an image file")})
	}
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WalkImages lists the images under dir and its subfolders (ListImages,
// recursive).
func WalkImages(dir string) []Found { return ListImages(dir, true) }

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
