package ui

import (
	"testing"
	"time"

	"steelinspect/archive"
	"steelinspect/station"
	"steelinspect/verdict"
)

// TestWatchFolderArchives: a REJECT that arrives in the window's watched
// folder is archived like one opened in the window (the watcher was built
// without the station's archive, so it was recorded with no copy).
func TestWatchFolderArchives(t *testing.T) {
	store := openStore(t)
	arch, err := archive.New(archive.Policy{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: station.FromParts(store, arch, nil)})
	h.ins.review.setOperator("alice")
	h.ins.watch.play = func(verdict.Decision) error { return nil } // no sound in tests
	dir := t.TempDir()
	h.ins.watch.start(dir)
	defer h.ins.watch.stop()
	writePNG(t, dir, "hot.png", stripA()) // REJECT
	deadline := time.Now().Add(15 * time.Second)
	for len(h.ins.processed.items) == 0 && time.Now().Before(deadline) {
		select {
		case f := <-h.ui:
			f()
		case <-time.After(50 * time.Millisecond):
		}
	}
	h.waitIdle()
	rows := history(t, store)
	if len(rows) != 1 || rows[0].AutoDecision != verdict.Reject || rows[0].ArchivePath == "" || rows[0].ArchiveSHA256 == "" {
		t.Fatalf("the watched REJECT's record: %+v", rows)
	}
}
