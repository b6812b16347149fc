package archive

import (
	"crypto/sha256"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/verdict"
)

// TestKeep: REVIEW and REJECT always, PASS one in N (none at 0).
func TestKeep(t *testing.T) {
	for _, c := range []struct {
		every int
		want  string
	}{{0, "------"}, {1, "kkkkkk"}, {3, "k--k--"}} {
		a, err := New(Policy{Dir: t.TempDir(), PassEvery: c.every})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for range 6 {
			if a.Keep(verdict.Pass) {
				got += "k"
			} else {
				got += "-"
			}
		}
		if got != c.want || !a.Keep(verdict.Review) || !a.Keep(verdict.Reject) {
			t.Errorf("every %d: PASS kept %q, want %q", c.every, got, c.want)
		}
	}
	if _, err := New(Policy{Dir: t.TempDir(), PassEvery: -1}); err == nil {
		t.Error("a negative policy accepted")
	}
}

// TestSave: the strip's bytes and its report go under the day's folder,
// named uniquely, with the sha256 of the copy.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	a, _ := New(Policy{Dir: dir})
	now := time.Date(2026, 11, 30, 14, 5, 6, 0, time.Local)
	c, err := a.Save(now, "/cam/line 3/strip#1.jpg", []byte("jpeg bytes"), image.NewGray(image.Rect(0, 0, 8, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(c.Path) != filepath.Join(dir, "2026-11-30") || !strings.HasSuffix(c.Path, "-strip_1.jpg") ||
		!strings.HasPrefix(filepath.Base(c.Path), "140506.000-") {
		t.Errorf("copy at %s", c.Path)
	}
	if data, err := os.ReadFile(c.Path); err != nil || string(data) != "jpeg bytes" {
		t.Errorf("copy %q %v", data, err)
	}
	if c.SHA256 != fmt.Sprintf("%x", sha256.Sum256([]byte("jpeg bytes"))) {
		t.Errorf("sha256 %s", c.SHA256)
	}
	if st, err := os.Stat(c.Report); err != nil || st.Size() == 0 || !strings.HasSuffix(c.Report, "-strip_1.report.png") {
		t.Errorf("report %s: %v", c.Report, err)
	}
	// the same strip again is a second copy, never an overwrite
	c2, err := a.Save(now.Add(time.Millisecond), "/cam/line 3/strip#1.jpg", []byte("jpeg bytes"), nil)
	if err != nil || c2.Path == c.Path || c2.Report != "" {
		t.Errorf("second copy %+v %v", c2, err)
	}
}

// TestPurge: retention removes whole days older than the limit; the
// quota removes the oldest files first until the archive fits; walks are
// at most once a minute.
func TestPurge(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.Local)
	write := func(day, name string, size int) {
		p := filepath.Join(dir, day, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("2026-10-01", "080000.000-a.jpg", 100) // 60 days old
	write("2026-11-20", "080000.000-b.jpg", 100)
	write("2026-11-29", "080000.000-c.jpg", 100)
	write("2026-11-30", "070000.000-d.jpg", 100)
	write("2026-11-30", "090000.000-e.jpg", 100)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not ours"), 0o644)

	a, _ := New(Policy{Dir: dir, RetentionDays: 30, QuotaBytes: 250})
	purged, err := a.Purge(now)
	if err != nil {
		t.Fatal(err)
	}
	var names, reasons []string
	for _, p := range purged {
		names = append(names, filepath.Base(p.Path))
		reasons = append(reasons, strings.Split(p.Reason, ":")[0])
		if p.Bytes != 100 {
			t.Errorf("%s: %d bytes", p.Path, p.Bytes)
		}
	}
	if strings.Join(names, ",") != "080000.000-a.jpg,080000.000-b.jpg,080000.000-c.jpg" ||
		strings.Join(reasons, ",") != "retention,quota,quota" {
		t.Errorf("purged %v for %v", names, reasons)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-10-01")); !os.IsNotExist(err) {
		t.Error("an emptied day folder stays")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("a file that is not the archive's was removed")
	}
	// within the minute: no walk, nothing removed
	write("2026-09-01", "080000.000-z.jpg", 100)
	if p, _ := a.Purge(now.Add(30 * time.Second)); len(p) != 0 {
		t.Errorf("purged again within the minute: %v", p)
	}
	if p, _ := a.Purge(now.Add(2 * time.Minute)); len(p) != 1 {
		t.Errorf("a minute later: %v", p)
	}
}
