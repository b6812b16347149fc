package central

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/internal/testpg"
	"steelinspect/verdict"
)

// TestSharedTrailTwoInstances: two API instances (two SharedTrails, as
// two serve processes open) record at once into one station's trail;
// every record gets its own id, the chain holds, and the central history
// reads the inspections back as recorded, on the instances' line.
func TestSharedTrailTwoInstances(t *testing.T) {
	pg := testpg.Start(t)
	conn := connect(t, pg)
	ctx := context.Background()
	var trails []*SharedTrail
	for range 2 {
		tr, err := OpenShared(ctx, pg.URL(testpg.Password), "api-1", "line 1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.Close)
		trails = append(trails, tr)
	}
	const each = 15
	var mu sync.Mutex
	ids := map[int64]string{}
	var wg sync.WaitGroup
	for i, tr := range trails {
		for k := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("i%d-%02d.png", i, k)
				id, err := tr.Add(ctx, audit.Inspection{Source: "api", Path: name, SHA256: strings.Repeat("c", 64), Width: 1600, Height: 256,
					Bytes: 9, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: "d", PassThreshold: 0.42, RejectThreshold: 0.65,
					Confidence: 0.5, MeanProbability: 0.2, AutoDecision: verdict.Review, CautionKinds: "unfamiliar", Cautions: "unfamiliar strip"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil || ids[id] != "" {
					t.Errorf("%s: id %d (already %q), %v", name, id, ids[id], err)
				}
				ids[id] = name
			}()
		}
	}
	wg.Wait()
	if err := trails[1].AddPurge(ctx, "archive/x.png", 100, "retention"); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyStation(ctx, conn, "api-1")
	if err != nil || len(v.Problems) > 0 || v.Entries != 2*each+1 || v.ByKind["purge"] != 1 {
		t.Fatalf("verify: %v %+v", err, v)
	}
	got, err := History(ctx, conn, Query{Line: "line 1"})
	if err != nil || len(got) != 2*each {
		t.Fatalf("history: %v, %d rows", err, len(got))
	}
	for _, in := range got {
		if ids[in.ID] != in.Path || in.Station != "api-1" || in.FinalDecision() != verdict.Review || in.Cautions != "unfamiliar strip" {
			t.Errorf("row %+v, recorded as %q", in, ids[in.ID])
		}
	}
	// Altering a record in the central table shows.
	if _, err := conn.Exec(ctx, `UPDATE trail SET payload = replace(payload, 'REVIEW', 'PASS') WHERE station = 'api-1' AND seq = 3`); err != nil {
		t.Fatal(err)
	}
	if v, _ := VerifyStation(ctx, conn, "api-1"); len(v.Problems) == 0 {
		t.Error("a changed central record verified")
	}
}

// TestSharedTrailRefusals: a wrong URL or password is one clear error
// when the instance starts.
func TestSharedTrailRefusals(t *testing.T) {
	pg := testpg.Start(t)
	ctx := context.Background()
	if _, err := OpenShared(ctx, pg.URL("wrong"), "api", ""); err == nil || !strings.Contains(err.Error(), "refused the user name or password") ||
		strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := OpenShared(ctx, "file.db", "api", ""); err == nil || !strings.Contains(err.Error(), "not a postgres://") {
		t.Errorf("not a URL: %v", err)
	}
}

// TestSharedTrailDatabaseDownAndBack: with the database down an instance
// cannot record, and says so (the API answers 500, never an unrecorded
// decision); once it is back, recording goes on in the same chain.
func TestSharedTrailDatabaseDownAndBack(t *testing.T) {
	pg := testpg.Start(t)
	ctx := context.Background()
	tr, err := OpenShared(ctx, pg.URL(testpg.Password), "api-2", "")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	in := audit.Inspection{Source: "api", Path: "a.png", ModelName: "m", ModelVersion: "1", AutoDecision: verdict.Pass}
	if _, err := tr.Add(ctx, in); err != nil {
		t.Fatal(err)
	}
	pg.Stop()
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = tr.Add(short, in)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "record inspection of a.png in the shared trail") {
		t.Fatalf("database down: %v", err)
	}
	pg.Start()
	id, err := tr.Add(ctx, in)
	if err != nil || id != 2 {
		t.Fatalf("database back: id %d, %v", id, err)
	}
	conn := connect(t, pg)
	if v, err := VerifyStation(ctx, conn, "api-2"); err != nil || len(v.Problems) > 0 || v.Entries != 2 {
		t.Errorf("verify: %v %+v", err, v)
	}
}
