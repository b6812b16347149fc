// Package archive keeps copies of inspected strips for the years a
// quality record must last: every REVIEW and REJECT strip, and every PASS
// or one in N as asked, each as the file that came in and a report PNG of
// it with its heatmap, under a folder per day. The audit record points to
// the copy by path and sha256. Retention (days) and a quota (bytes) are
// enforced oldest first, and the caller records every purge in the audit
// trail (audit.Store.AddPurge).
package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"steelinspect/verdict"
)

// Policy says what is kept and for how long.
type Policy struct {
	// Dir is the archive's root; day folders (2006-01-02) go under it.
	Dir string
	// PassEvery keeps every PassEvery-th PASS strip: 0 none, 1 all.
	PassEvery int
	// RetentionDays deletes day folders older than this many days; 0
	// keeps them.
	RetentionDays int
	// QuotaBytes bounds the archive's size, the oldest files going first;
	// 0 leaves it unbounded.
	QuotaBytes int64
}

// Archive files strips by Policy. It is safe for concurrent use.
type Archive struct {
	p Policy

	mu        sync.Mutex
	passes    int       // PASS strips seen, for PassEvery
	lastPurge time.Time // Purge walks the archive at most once per purgeEvery
}

// purgeEvery spaces the archive walks Purge makes.
const purgeEvery = time.Minute

// dayLayout names the day folders.
const dayLayout = "2006-01-02"

// New checks p and makes its folder.
func New(p Policy) (*Archive, error) {
	if p.Dir == "" {
		return nil, errors.New("archive: no folder")
	}
	if p.PassEvery < 0 || p.RetentionDays < 0 || p.QuotaBytes < 0 {
		return nil, errors.New("archive: --archive-pass, --retention-days and --archive-quota must be 0 or more")
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %v", err)
	}
	return &Archive{p: p}, nil
}

// Keep says whether a strip decided d is archived: REVIEW and REJECT
// always, PASS by PassEvery (counting the PASS strips it is asked about).
func (a *Archive) Keep(d verdict.Decision) bool {
	if d != verdict.Pass {
		return true
	}
	if a.p.PassEvery == 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.passes++
	return (a.passes-1)%a.p.PassEvery == 0
}

// Copy is one archived strip.
type Copy struct {
	Path   string // the strip's file as it came in
	SHA256 string // of that file
	Report string // the report PNG beside it ("" when there was no image to draw)
}

// Save files data (the strip as it came in, named name) and its report
// image under today's folder. Names are unique: time, the data's hash and
// the original base name.
func (a *Archive) Save(now time.Time, name string, data []byte, report image.Image) (Copy, error) {
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	dir := filepath.Join(a.p.Dir, now.Format(dayLayout))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Copy{}, fmt.Errorf("archive: %v", err)
	}
	base := fmt.Sprintf("%s-%s-%s", now.Format("150405.000"), hexSum[:12], safeName(filepath.Base(name)))
	c := Copy{Path: filepath.Join(dir, base), SHA256: hexSum}
	if err := writeNew(c.Path, data); err != nil {
		return Copy{}, err
	}
	if report != nil {
		var buf bytes.Buffer
		if err := png.Encode(&buf, report); err != nil {
			return Copy{}, fmt.Errorf("archive: report: %v", err)
		}
		c.Report = strings.TrimSuffix(c.Path, filepath.Ext(c.Path)) + ".report.png"
		if err := writeNew(c.Report, buf.Bytes()); err != nil {
			return Copy{}, err
		}
	}
	return c, nil
}

// writeNew writes a file that must not exist yet, durably.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("archive: %v", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("archive: %v", err)
	}
	return nil
}

// safeName keeps a file name's letters, digits, dots, dashes and
// underscores.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 || b.Len() > 120 {
		return "strip"
	}
	return b.String()
}

// Purged is one file the retention or the quota removed.
type Purged struct {
	Path   string
	Bytes  int64
	Reason string // "retention: older than N days" or "quota: archive over N bytes"
}

type archived struct {
	path string
	day  string
	mod  time.Time
	size int64
}

// Purge enforces the retention and the quota, oldest files first, and
// says what it removed. It walks the archive at most once a minute (of
// now's clock); calls in between do nothing.
func (a *Archive) Purge(now time.Time) ([]Purged, error) {
	if a.p.RetentionDays == 0 && a.p.QuotaBytes == 0 {
		return nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.lastPurge.IsZero() && now.Sub(a.lastPurge) < purgeEvery {
		return nil, nil
	}
	a.lastPurge = now
	files, total, err := a.list()
	if err != nil {
		return nil, err
	}
	var out []Purged
	remove := func(f archived, reason string) {
		if err := os.Remove(f.path); err == nil {
			out = append(out, Purged{Path: f.path, Bytes: f.size, Reason: reason})
			total -= f.size
		}
	}
	var kept []archived
	if a.p.RetentionDays > 0 {
		oldest := now.AddDate(0, 0, -a.p.RetentionDays).Format(dayLayout)
		reason := fmt.Sprintf("retention: older than %d days", a.p.RetentionDays)
		for _, f := range files {
			if f.day < oldest {
				remove(f, reason)
			} else {
				kept = append(kept, f)
			}
		}
	} else {
		kept = files
	}
	if a.p.QuotaBytes > 0 {
		reason := fmt.Sprintf("quota: archive over %d bytes", a.p.QuotaBytes)
		for _, f := range kept {
			if total <= a.p.QuotaBytes {
				break
			}
			remove(f, reason)
		}
	}
	removeEmptyDays(a.p.Dir)
	return out, nil
}

// list is every archived file, oldest first (by day folder, then time),
// and their total size.
func (a *Archive) list() ([]archived, int64, error) {
	var files []archived
	var total int64
	err := filepath.WalkDir(a.p.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		day := filepath.Base(filepath.Dir(path))
		if _, perr := time.Parse(dayLayout, day); perr != nil {
			return nil // not one of ours
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, archived{path: path, day: day, mod: info.ModTime(), size: info.Size()})
		total += info.Size()
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("archive: %v", err)
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].day != files[j].day {
			return files[i].day < files[j].day
		}
		return filepath.Base(files[i].path) < filepath.Base(files[j].path)
	})
	return files, total, nil
}

func removeEmptyDays(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, perr := time.Parse(dayLayout, e.Name()); e.IsDir() && perr == nil {
			os.Remove(filepath.Join(dir, e.Name())) // only when empty
		}
	}
}
