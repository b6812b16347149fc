package central

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/audit"
	"steelinspect/internal/testpg"
	"steelinspect/verdict"
)

// TestSharedTrailRecordsTheDefectClass (issue 28): an API instance's
// shared trail records a strip's defect class as a station's own trail
// does, a "class" entry right after its inspection, with the same
// payloads and hashes, and the chain verifies.
func TestSharedTrailRecordsTheDefectClass(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	ctx := context.Background()
	tr, err := OpenShared(ctx, pg.URL(testpg.Password), "api-3", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	local, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	for k, class := range []string{"class 3", "", "class 1"} {
		in := audit.Inspection{InspectedAt: at.Add(time.Duration(k) * time.Second), Source: "api", Path: "s.png", SHA256: strings.Repeat("c", 64),
			Width: 1600, Height: 256, Bytes: 9, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: "d", PassThreshold: 0.42,
			RejectThreshold: 0.65, Confidence: 0.9, MeanProbability: 0.5, AutoDecision: verdict.Reject, DefectClass: class, DefectPatches: k + 1}
		if _, err := tr.Add(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := local.Add(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	want, err := local.Chain(ctx)
	if err != nil || len(want) != 5 {
		t.Fatalf("station trail: %d entries, %v", len(want), err)
	}
	rows, err := conn.Query(ctx, `SELECT seq, kind, row_id, payload, prev, hash FROM trail WHERE station = 'api-3' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.ChainEntry, error) {
		var e audit.ChainEntry
		return e, r.Scan(&e.Seq, &e.Kind, &e.RowID, &e.Payload, &e.Prev, &e.Hash)
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("shared trail: %d entries, %v; want %d", len(got), err, len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("entry %d:\nshared  %+v\nstation %+v", k+1, got[k], want[k])
		}
	}
	v, err := VerifyStation(ctx, conn, "api-3")
	if err != nil || len(v.Problems) > 0 || v.ByKind["class"] != 2 || v.ByKind["inspection"] != 3 {
		t.Fatalf("verify: %v %+v", err, v)
	}
}
