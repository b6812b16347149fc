package hotfolder

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"steelinspect/internal/testimg"
	"time"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

func strip(_ *testing.T, value uint8) []byte { return testimg.StripPNG(0, 1600, value) }

type fixture struct {
	w       *Watcher
	engine  *inference.Engine
	store   *audit.Store
	clock   time.Time
	results []Result
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e, err := inference.OpenModel("../testdata/models/tiny-nchw.manifest.json", inference.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{engine: e, store: store, clock: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	st := station.FromParts(store, nil, e)
	st.Fix(verdict.DefaultThresholds)
	f.w = &Watcher{Dir: t.TempDir(), Engine: e, Station: st, Thresholds: verdict.DefaultThresholds,
		Settle: time.Second, OnResult: func(r Result) { f.results = append(f.results, r) }}
	f.w.now = func() time.Time { return f.clock }
	if err := f.w.prepare(); err != nil {
		t.Fatal(err)
	}
	return f
}

// tick advances the clock and lists the folder once.
func (f *fixture) tick(t *testing.T, d time.Duration) {
	t.Helper()
	f.clock = f.clock.Add(d)
	if err := f.w.scanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPartialFileWaitsUntilComplete(t *testing.T) {
	f := newFixture(t)
	data := strip(t, 255)
	p := filepath.Join(f.w.Dir, "s1.png")
	os.WriteFile(p, data[:len(data)/2], 0o644) // the camera is still writing
	f.tick(t, 0)
	f.tick(t, 2*time.Second) // settled, but a PNG without its end: a writer's pause
	f.tick(t, 20*time.Second)
	if len(f.results) != 0 {
		t.Fatalf("a half-written PNG was scored %s after it last changed: %+v", 22*time.Second, f.results)
	}
	f.tick(t, DefaultIncompleteWait) // it really stopped: scored as it is, truncated
	if len(f.results) != 1 || f.results[0].Err == nil ||
		!strings.Contains(f.results[0].Err.Error(), "truncated: a PNG without its end chunk (IEND), unchanged for 30s") {
		t.Fatalf("half file abandoned by its writer: results %+v", f.results)
	}
	// A file still growing is never scored.
	f.results = nil
	p2 := filepath.Join(f.w.Dir, "s2.png")
	for i := 1; i <= 4; i++ {
		os.WriteFile(p2, data[:len(data)*i/4], 0o644)
		os.Chtimes(p2, f.clock, f.clock.Add(time.Duration(i)*time.Millisecond))
		f.tick(t, 700*time.Millisecond)
		if len(f.results) != 0 {
			t.Fatalf("scored while being written (step %d): %+v", i, f.results)
		}
	}
	f.tick(t, 1500*time.Millisecond)
	if len(f.results) != 1 || !f.results[0].Decision.Is(verdict.Reject) || f.results[0].Err != nil {
		t.Fatalf("completed file: %+v", f.results)
	}
	if _, err := os.Stat(filepath.Join(f.w.Dir, "REJECT", "s2.png")); err != nil {
		t.Errorf("not moved to REJECT: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.w.Dir, "ERROR", "s1.png.error.txt")); err != nil {
		t.Errorf("corrupt file has no error note: %v", err)
	}
}

func TestDecisionsAreRecordedAndMoved(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.w.Dir, "dark.png"), strip(t, 0), 0o644)
	os.WriteFile(filepath.Join(f.w.Dir, "mid.png"), strip(t, 128), 0o644)
	os.WriteFile(filepath.Join(f.w.Dir, "notes.txt"), []byte("ignored"), 0o644)
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	got := map[string]string{}
	for _, r := range f.results {
		got[r.Name] = r.Decision.String()
	}
	if got["dark.png"] != "PASS" || got["mid.png"] != "REVIEW" || len(got) != 2 {
		t.Errorf("decisions %v", got)
	}
	rows, _ := f.store.History(context.Background(), audit.Query{})
	if len(rows) != 2 || rows[0].Source != "watch" {
		t.Errorf("audit rows %+v", rows)
	}
	for _, r := range f.results {
		if r.AuditID == 0 || r.Analysis == nil || len(r.Analysis.Patches) != 12 || r.Analysis.Decoded.Image != nil {
			t.Errorf("%s: audit id %d, analysis %v (a result must carry its patches but no pixels)", r.Name, r.AuditID, r.Analysis != nil)
		}
	}
	if _, err := os.Stat(filepath.Join(f.w.Dir, "notes.txt")); err != nil {
		t.Error("non-image file was touched")
	}
}

func TestRestartDoesNotRescore(t *testing.T) {
	f := newFixture(t)
	data := strip(t, 255)
	p := filepath.Join(f.w.Dir, "crashed.png")
	os.WriteFile(p, data, 0o644)
	// The previous run recorded the decision, then died before moving it.
	a, err := f.engine.AnalyzeBytes(context.Background(), p, data)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.Decide(verdict.DefaultThresholds)
	rec := inference.NewRecord(&a, &v)
	in, err := audit.FromRecord(&rec, "watch")
	if err != nil {
		t.Fatal(err)
	}
	f.store.Add(context.Background(), in)
	runs := f.engine.Runs()

	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || !f.results[0].Resumed || !f.results[0].Decision.Is(verdict.Reject) {
		t.Fatalf("results %+v", f.results)
	}
	if f.engine.Runs() != runs {
		t.Errorf("the file was scored again (%d runs)", f.engine.Runs()-runs)
	}
	rows, _ := f.store.History(context.Background(), audit.Query{})
	if len(rows) != 1 {
		t.Errorf("%d audit rows, want the one from before the crash", len(rows))
	}
	if !strings.HasSuffix(f.results[0].MovedTo, filepath.Join("REJECT", "crashed.png")) {
		t.Errorf("moved to %s", f.results[0].MovedTo)
	}
}

func TestNameCollisionKeepsBoth(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.w.Dir, "PASS", "a.png"), []byte("earlier"), 0o644)
	os.WriteFile(filepath.Join(f.w.Dir, "a.png"), strip(t, 0), 0o644)
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || !strings.HasSuffix(f.results[0].MovedTo, "a-1.png") {
		t.Fatalf("results %+v", f.results)
	}
	if b, _ := os.ReadFile(filepath.Join(f.w.Dir, "PASS", "a.png")); string(b) != "earlier" {
		t.Error("an earlier file was overwritten")
	}
}

// TestWriteThenRenameIsHonoured: dot-files and names ending in .part or
// .tmp are never picked up; the renamed, complete file is scored once.
func TestWriteThenRenameIsHonoured(t *testing.T) {
	f := newFixture(t)
	data := strip(t, 255)
	for _, name := range []string{".s1.png", "s2.png.part", "s3.PNG.TMP", "s4.tmp"} {
		os.WriteFile(filepath.Join(f.w.Dir, name), data[:len(data)/3], 0o644)
	}
	f.tick(t, 0)
	f.tick(t, time.Minute)
	if len(f.results) != 0 {
		t.Fatalf("files being written under a temporary name were picked up: %+v", f.results)
	}
	final := filepath.Join(f.w.Dir, "s2.png")
	os.WriteFile(filepath.Join(f.w.Dir, "s2.png.part"), data, 0o644)
	if err := os.Rename(filepath.Join(f.w.Dir, "s2.png.part"), final); err != nil {
		t.Fatal(err)
	}
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || f.results[0].Name != "s2.png" || f.results[0].Err != nil {
		t.Fatalf("renamed file: %+v", f.results)
	}
}

func TestUnfinishedJudgesEveryFormatsEnd(t *testing.T) {
	img := testimg.TexturedStrip(400, 256, 0, 0, 0)
	jpegThumb := testimg.JPEGWithThumbnail(img)
	thumbEnd := bytes.Index(jpegThumb, []byte{0xff, 0xd9}) + 2 // the thumbnail's end marker
	for _, c := range []struct {
		name string
		data []byte
		says string
		cuts []int
	}{
		{"png", testimg.PNG(img), "PNG", nil},
		{"jpeg", testimg.JPEG(img), "JPEG", nil},
		// paused just after the EXIF thumbnail's end marker: its FFD9 is no end
		{"jpeg with a thumbnail", jpegThumb, "JPEG", []int{thumbEnd, thumbEnd + 10, thumbEnd - 5}},
		{"bmp", testimg.BMP(img), "BMP", nil},
		{"tiff", testimg.TIFF(img), "TIFF", nil},
	} {
		if got := unfinished(bytes.NewReader(c.data), int64(len(c.data))); got != "" {
			t.Errorf("whole %s judged unfinished: %s", c.name, got)
		}
		for _, cut := range append(c.cuts, len(c.data)/2, len(c.data)-1, 100) {
			part := c.data[:cut]
			got := unfinished(bytes.NewReader(part), int64(len(part)))
			if !strings.Contains(got, c.says) {
				t.Errorf("%s cut at %d of %d judged %q", c.name, cut, len(c.data), got)
			}
		}
	}
}

// TestTIFFWrittenInChunks: a TIFF whose writer puts the directory first
// and the strips after it, stopped part way through the strips, is
// unfinished; so is one whose directory names a strip array past the end.
func TestTIFFWrittenInChunks(t *testing.T) {
	whole := testimg.TIFF(testimg.TexturedStrip(400, 256, 0, 0, 0))
	le := binary.LittleEndian
	ifd := le.Uint32(whole[4:])
	dir := whole[ifd:]
	// the same file with its directory moved to the front: header,
	// directory, data, then the values the directory keeps elsewhere,
	// which so stay where they were; only the strips move
	dirLen := 2 + 12*int(le.Uint16(dir)) + 4
	front := append(append([]byte{}, whole[:8]...), dir[:dirLen]...)
	le.PutUint32(front[4:], 8)
	for i := range int(le.Uint16(dir)) {
		if e := front[8+2+12*i:]; le.Uint16(e) == 273 { // StripOffsets, one strip: inline
			le.PutUint32(e[8:], le.Uint32(e[8:])+uint32(dirLen))
		}
	}
	front = append(append(front, whole[8:ifd]...), dir[dirLen:]...)
	if got := unfinished(bytes.NewReader(front), int64(len(front))); got != "" {
		t.Fatalf("whole directory-first TIFF judged %q", got)
	}
	for _, cut := range []int{len(front) - 1, len(front) / 2, 8 + dirLen + 10} {
		if got := unfinished(bytes.NewReader(front[:cut]), int64(cut)); !strings.Contains(got, "TIFF shorter than the image data") {
			t.Errorf("directory-first TIFF cut at %d of %d judged %q", cut, len(front), got)
		}
	}
}

// TestFollowsTheThresholdsInForce: with a station that follows the
// thresholds in force (Station.Follow), each strip is decided with
// the thresholds in force when it arrives, so a supervisor's change made
// while the folder is watched applies to the next strip (a strip scoring
// 0.35 auto-passed at 0.40 goes to review at 0.30).
func TestFollowsTheThresholdsInForce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.w.Thresholds = verdict.Thresholds{} // unused: the station follows the trail
	f.w.Station = station.FromParts(f.store, nil, f.engine)
	os.WriteFile(filepath.Join(f.w.Dir, "first.png"), strip(t, 90), 0o644) // every patch 90/255 = 0.35
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	old, _ := station.ThresholdsInForce(ctx, f.store, verdict.DefaultThresholds)
	if err := station.RecordThresholds(ctx, f.store, "sue", old, verdict.Thresholds{Pass: 0.30, Reject: 0.60}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.w.Dir, "second.png"), strip(t, 90), 0o644)
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 2 || !f.results[0].Decision.Is(verdict.Pass) || !f.results[1].Decision.Is(verdict.Review) {
		t.Fatalf("want PASS at the defaults, then REVIEW at the recorded 0.30: %+v", f.results)
	}
	rows, _ := f.store.History(ctx, audit.Query{})
	if len(rows) != 2 || rows[1].PassThreshold != 0.30 || rows[1].RejectThreshold != 0.60 {
		t.Errorf("the second record should carry the thresholds in force: %+v", rows)
	}
}

// TestOversizedFileRefusedUnread: watch refuses what scan refuses, by its
// size before reading it (a 2 GB file was read whole, 2.2 GB resident),
// and sends it to ERROR with the reason.
func TestOversizedFileRefusedUnread(t *testing.T) {
	f := newFixture(t)
	p := filepath.Join(f.w.Dir, "huge.png")
	if err := os.WriteFile(p, strip(t, 0)[:64], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 2<<30); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	f.tick(t, DefaultIncompleteWait+time.Second) // no PNG end: waited for, then taken
	if len(f.results) != 1 || f.results[0].Err == nil || !strings.Contains(f.results[0].Err.Error(), "above the limit of 256 MB") {
		t.Fatalf("2 GB file: %+v", f.results)
	}
	note, err := os.ReadFile(filepath.Join(f.w.Dir, "ERROR", "huge.png.error.txt"))
	if err != nil || !strings.Contains(string(note), "above the limit") {
		t.Errorf("error note %q %v", note, err)
	}
}

// TestErrorNoteNeverEmpty: a note that cannot be written leaves no empty
// file behind and hands its reason to the log instead.
func TestErrorNoteNeverEmpty(t *testing.T) {
	moved := filepath.Join(t.TempDir(), "gone", "s.png") // its folder is missing: the write fails
	warning := writeErrorNote(moved, errors.New("corrupt PNG data"))
	if !strings.Contains(warning, "could not be written") || !strings.Contains(warning, "corrupt PNG data") {
		t.Errorf("warning %q should carry the reason", warning)
	}
	if _, err := os.Stat(moved + ".error.txt"); err == nil {
		t.Error("an empty note was left")
	}
	ok := filepath.Join(t.TempDir(), "s.png")
	if w := writeErrorNote(ok, errors.New("corrupt PNG data")); w != "" {
		t.Errorf("a written note warns: %q", w)
	}
	if b, _ := os.ReadFile(ok + ".error.txt"); string(b) != "corrupt PNG data\n" {
		t.Errorf("note %q", b)
	}
}

// TestOutcomeFoldersMustBeRealFolders: an outcome folder replaced by a
// link (to a folder outside the hot folder) is never written through: at
// start the watcher refuses it, and a replacement made while it runs
// leaves the strip in place with the reason.
func TestOutcomeFoldersMustBeRealFolders(t *testing.T) {
	f := newFixture(t)
	outside := t.TempDir()
	rejectDir := filepath.Join(f.w.Dir, "REJECT")
	if err := os.Remove(rejectDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, rejectDir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.w.Dir, "white.png"), strip(t, 255), 0o644)
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || f.results[0].Err == nil || !strings.Contains(f.results[0].Err.Error(), "REJECT is a link, not a folder inside the hot folder") {
		t.Fatalf("REJECT replaced by a link: %+v", f.results)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(f.w.Dir, "white.png")); err != nil {
		t.Errorf("the strip should stay in place: %v", err)
	}
	w := &Watcher{Dir: f.w.Dir, Engine: f.engine, Thresholds: verdict.DefaultThresholds}
	if err := w.prepare(); err == nil || !strings.Contains(err.Error(), "REJECT is a link") {
		t.Errorf("a watcher started on it: %v", err)
	}
}

// TestSkippedEntriesAreLoggedOnce: what is named like an image but is no
// regular file (a named pipe, a folder, a link to nothing) is logged once
// while it stays, never scored; a link to an image is scored, as scan
// scores it.
func TestSkippedEntriesAreLoggedOnce(t *testing.T) {
	f := newFixture(t)
	var logged []string
	f.w.Log = func(line string) { logged = append(logged, line) }
	if err := syscall.Mkfifo(filepath.Join(f.w.Dir, "cam.png"), 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	os.Mkdir(filepath.Join(f.w.Dir, "folder.jpg"), 0o755)
	os.Symlink(filepath.Join(f.w.Dir, "missing.png"), filepath.Join(f.w.Dir, "dangling.png"))
	real := filepath.Join(t.TempDir(), "real.png")
	os.WriteFile(real, strip(t, 255), 0o644)
	os.Symlink(real, filepath.Join(f.w.Dir, "linked.png"))
	for range 3 {
		f.tick(t, 2*time.Second)
	}
	joined := strings.Join(logged, "\n")
	if len(logged) != 3 || !strings.Contains(joined, "cam.png: skipped: is a named pipe (FIFO)") ||
		!strings.Contains(joined, "folder.jpg: skipped: is a folder") || !strings.Contains(joined, "dangling.png: skipped: a link to nothing") {
		t.Errorf("want each skipped entry logged once, got:\n%s", joined)
	}
	if len(f.results) != 1 || f.results[0].Name != "linked.png" || !f.results[0].Decision.Is(verdict.Reject) {
		t.Errorf("the linked image: %+v", f.results)
	}
}
