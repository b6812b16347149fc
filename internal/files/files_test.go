package files

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestListImagesOneRule: the folder named is followed when it is a link
// (before, a linked folder listed no images in scan and teach while the
// window found them); hidden and half-written names are left alone; a
// link to an image is listed; what is named like an image but is no
// regular file is listed with why it is skipped; subfolders are listed
// when recursive, links to folders are not followed.
func TestListImagesOneRule(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "strips")
	sub := filepath.Join(dir, "sub")
	os.MkdirAll(sub, 0o755)
	for _, n := range []string{"a.png", "b.JPG", ".hidden.png", "c.png.part", "d.tmp", "notes.txt", "sub/e.png"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	elsewhere := filepath.Join(root, "elsewhere")
	os.Mkdir(elsewhere, 0o755)
	os.WriteFile(filepath.Join(elsewhere, "f.png"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(elsewhere, "f.png"), filepath.Join(dir, "linked.png"))
	os.Symlink(elsewhere, filepath.Join(dir, "linked-folder"))
	os.Symlink(filepath.Join(root, "nothing.png"), filepath.Join(dir, "dangling.png"))
	os.Mkdir(filepath.Join(dir, "folder.png"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.png"), 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	link := filepath.Join(root, "link-to-strips")
	os.Symlink(dir, link)

	describe := func(found []Found, base string) string {
		var out []string
		for _, f := range found {
			rel, _ := filepath.Rel(base, f.Path)
			if f.Err != nil {
				rel += " (" + f.Err.Error() + ")"
			}
			out = append(out, rel)
		}
		return strings.Join(out, "; ")
	}
	flat := "a.png; b.JPG; dangling.png (a link to nothing: no such file or directory); folder.png (is a folder, not an image file); " +
		"linked.png; pipe.png (is a named pipe (FIFO), not an image file)"
	if got := describe(ListImages(link, false), link); got != flat {
		t.Errorf("flat, through a link:\n got %s\nwant %s", got, flat)
	}
	// recursive: folder.png is a subfolder like any other
	recursive := "a.png; b.JPG; dangling.png (a link to nothing: no such file or directory); " +
		"linked-folder (a link to a folder: not followed); linked.png; pipe.png (is a named pipe (FIFO), not an image file); sub/e.png"
	if got := describe(WalkImages(dir), dir); got != recursive {
		t.Errorf("recursive:\n got %s\nwant %s", got, recursive)
	}
	if got := ListImages(filepath.Join(root, "missing"), true); len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "cannot list") {
		t.Errorf("missing folder: %+v", got)
	}
}
