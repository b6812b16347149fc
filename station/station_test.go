package station_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/internal/testimg"
	"steelinspect/station"
	"steelinspect/verdict"
)

func fixture(t *testing.T) (*inference.Engine, *audit.Store) {
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
	return e, store
}

func TestInspectDecidesAndRecordsBeforeReturning(t *testing.T) {
	e, store := fixture(t)
	ctx := context.Background()
	st := &station.Station{Store: store}
	white := testimg.StripPNG(0, 1600, 255) // every patch 1: REJECT
	res, err := st.Inspect(ctx, e, "cam/white.png", white, verdict.DefaultThresholds,
		station.Source{Name: station.SourceAPI, AuditPath: "white.png (API request 7)"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict.Decision != verdict.Reject || !res.Record.Decision.Is(verdict.Reject) || res.AuditID == 0 {
		t.Fatalf("result %+v", res.Record)
	}
	got, err := store.History(ctx, audit.Query{})
	if err != nil || len(got) != 1 {
		t.Fatalf("history %v, %v; want the one record", got, err)
	}
	in := got[0]
	if in.ID != res.AuditID || in.Source != "api" || in.Path != "white.png (API request 7)" || in.AutoDecision != verdict.Reject ||
		in.SHA256 != inference.SHA256Hex(white) {
		t.Errorf("audit record %+v does not match the result", in)
	}
}

func TestWithoutATrailNothingIsRecorded(t *testing.T) {
	e, _ := fixture(t)
	res, err := (&station.Station{}).Inspect(context.Background(), e, "a.png", testimg.StripPNG(0, 0, 0),
		verdict.DefaultThresholds, station.Source{Name: station.SourceScan})
	if err != nil || res.AuditID != 0 || res.Record.Decision.IsZero() {
		t.Fatalf("no trail: %+v, %v", res.Record, err)
	}
}

func TestAStripThatCannotBeRecordedIsNotReported(t *testing.T) {
	e, store := fixture(t)
	store.Close() // the trail is gone (disk, lock, …)
	_, err := (&station.Station{Store: store}).Inspect(context.Background(), e, "a.png", testimg.StripPNG(0, 0, 0),
		verdict.DefaultThresholds, station.Source{Name: station.SourceWatch})
	if !errors.Is(err, station.ErrNotRecorded) {
		t.Fatalf("error %v, want ErrNotRecorded", err)
	}
}

func TestBadImagesAndThresholdsAreNotRecorded(t *testing.T) {
	e, store := fixture(t)
	ctx := context.Background()
	st := &station.Station{Store: store}
	if _, err := st.Inspect(ctx, e, "x.png", []byte("not an image"), verdict.DefaultThresholds, station.Source{Name: station.SourceScan}); err == nil || errors.Is(err, station.ErrNotRecorded) {
		t.Errorf("unreadable image: %v", err)
	}
	if _, err := st.Inspect(ctx, e, "a.png", testimg.StripPNG(0, 0, 0), verdict.Thresholds{Pass: 0.7, Reject: 0.5}, station.Source{Name: station.SourceScan}); err == nil {
		t.Error("thresholds out of order were used")
	}
	if got, _ := store.History(ctx, audit.Query{}); len(got) != 0 {
		t.Errorf("%d records of strips that were not decided", len(got))
	}
}

// TestArchiveKeepsRecordsAndPurges: a REJECT strip is archived before it
// is recorded (the record names the copy and its sha256, which is the
// strip's), a PASS strip is not at PassEvery 0, and a purge by retention
// is recorded in the trail, which still verifies.
func TestArchiveKeepsRecordsAndPurges(t *testing.T) {
	e, store := fixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "2020-01-01", "080000.000-old.jpg")
	os.MkdirAll(filepath.Dir(old), 0o755)
	os.WriteFile(old, []byte("old strip"), 0o644)
	arch, err := archive.New(archive.Policy{Dir: dir, RetentionDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	st := &station.Station{Store: store, Archive: arch}
	white := testimg.StripPNG(0, 1600, 255) // REJECT
	res, err := st.Inspect(ctx, e, "cam/white.png", white, verdict.DefaultThresholds, station.Source{Name: station.SourceWatch, Data: white})
	if err != nil || res.ArchiveErr != nil {
		t.Fatal(err, res.ArchiveErr)
	}
	dark := filepath.Join(t.TempDir(), "dark.png") // PASS, read back from its file
	os.WriteFile(dark, testimg.StripPNG(0, 0, 0), 0o644)
	a, err := e.AnalyzeFile(ctx, dark)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.Conclude(ctx, a, verdict.DefaultThresholds, station.Source{Name: station.SourceScan}); err != nil || r.Verdict.Decision != verdict.Pass {
		t.Fatalf("dark strip: %v %v", err, r.Verdict.Decision)
	}
	rows, _ := store.History(ctx, audit.Query{})
	if len(rows) != 2 || rows[0].ArchivePath == "" || rows[1].ArchivePath != "" {
		t.Fatalf("archive paths %q %q", rows[0].ArchivePath, rows[1].ArchivePath)
	}
	copyData, err := os.ReadFile(rows[0].ArchivePath)
	if err != nil || rows[0].ArchiveSHA256 != inference.SHA256Hex(white) || inference.SHA256Hex(copyData) != rows[0].ArchiveSHA256 {
		t.Errorf("archived copy %s: %v, sha %s", rows[0].ArchivePath, err, rows[0].ArchiveSHA256)
	}
	if res.Archived.Report == "" {
		t.Error("no report beside the archived strip")
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("the strip past retention is still there")
	}
	v, err := store.Verify(ctx)
	if err != nil || len(v.Problems) != 0 || v.ByKind["purge"] != 1 {
		t.Errorf("trail after the purge: %v %+v", err, v)
	}
}
