package station_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/internal/testimg"
	"steelinspect/station"
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
	st := station.Station{Store: store}
	white := testimg.StripPNG(0, 1600, 255) // every patch 1: REJECT
	res, err := st.Inspect(ctx, e, "cam/white.png", white, inference.DefaultThresholds,
		station.Source{Name: station.SourceAPI, AuditPath: "white.png (API request 7)"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict.Decision != inference.Reject || res.Record.Decision != "REJECT" || res.AuditID == 0 {
		t.Fatalf("result %+v", res.Record)
	}
	got, err := store.History(ctx, audit.Query{})
	if err != nil || len(got) != 1 {
		t.Fatalf("history %v, %v; want the one record", got, err)
	}
	in := got[0]
	if in.ID != res.AuditID || in.Source != "api" || in.Path != "white.png (API request 7)" || in.AutoDecision != "REJECT" ||
		in.SHA256 != inference.SHA256Hex(white) {
		t.Errorf("audit record %+v does not match the result", in)
	}
}

func TestWithoutATrailNothingIsRecorded(t *testing.T) {
	e, _ := fixture(t)
	res, err := station.Station{}.Inspect(context.Background(), e, "a.png", testimg.StripPNG(0, 0, 0),
		inference.DefaultThresholds, station.Source{Name: station.SourceScan})
	if err != nil || res.AuditID != 0 || res.Record.Decision == "" {
		t.Fatalf("no trail: %+v, %v", res.Record, err)
	}
}

func TestAStripThatCannotBeRecordedIsNotReported(t *testing.T) {
	e, store := fixture(t)
	store.Close() // the trail is gone (disk, lock, …)
	_, err := station.Station{Store: store}.Inspect(context.Background(), e, "a.png", testimg.StripPNG(0, 0, 0),
		inference.DefaultThresholds, station.Source{Name: station.SourceWatch})
	if !errors.Is(err, station.ErrNotRecorded) {
		t.Fatalf("error %v, want ErrNotRecorded", err)
	}
}

func TestBadImagesAndThresholdsAreNotRecorded(t *testing.T) {
	e, store := fixture(t)
	ctx := context.Background()
	st := station.Station{Store: store}
	if _, err := st.Inspect(ctx, e, "x.png", []byte("not an image"), inference.DefaultThresholds, station.Source{Name: station.SourceScan}); err == nil || errors.Is(err, station.ErrNotRecorded) {
		t.Errorf("unreadable image: %v", err)
	}
	if _, err := st.Inspect(ctx, e, "a.png", testimg.StripPNG(0, 0, 0), inference.Thresholds{Pass: 0.7, Reject: 0.5}, station.Source{Name: station.SourceScan}); err == nil {
		t.Error("thresholds out of order were used")
	}
	if got, _ := store.History(ctx, audit.Query{}); len(got) != 0 {
		t.Errorf("%d records of strips that were not decided", len(got))
	}
}
