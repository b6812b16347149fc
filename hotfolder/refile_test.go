package hotfolder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// fileOne drops a strip of value into the fixture's folder, lets the
// watcher file it, and returns its result.
func (f *fixture) fileOne(t *testing.T, name string, value uint8) Result {
	t.Helper()
	f.results = nil
	if err := os.WriteFile(filepath.Join(f.w.Dir, name), strip(t, value), 0o644); err != nil {
		t.Fatal(err)
	}
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || f.results[0].Err != nil || f.results[0].AuditID == 0 {
		t.Fatalf("%s: results %+v", name, f.results)
	}
	return f.results[0]
}

// inspection is the trail's row id.
func (f *fixture) inspection(t *testing.T, id int64) audit.Inspection {
	t.Helper()
	rows, err := f.store.History(context.Background(), audit.Query{ID: id})
	if err != nil || len(rows) != 1 {
		t.Fatalf("inspection %d: %v (%d rows)", id, err, len(rows))
	}
	return rows[0]
}

// TestTrailRecordsWhereTheFileWent: the trail says where the hot folder
// put each strip's file (it kept the path from before the move), also
// for a decision recorded before a crash and moved after it.
func TestTrailRecordsWhereTheFileWent(t *testing.T) {
	f := newFixture(t)
	res := f.fileOne(t, "mid.png", 128)
	in := f.inspection(t, res.AuditID)
	want := filepath.Join(f.w.Dir, "REVIEW", "mid.png")
	if !res.Decision.Is(verdict.Review) || res.MovedTo != want || in.Path != filepath.Join(f.w.Dir, "mid.png") || in.CurrentPath() != want {
		t.Errorf("REVIEW strip: moved to %q; trail path %q, now %q (want %q)", res.MovedTo, in.Path, in.CurrentPath(), want)
	}
	moves, err := f.store.Moves(context.Background(), res.AuditID)
	if err != nil || len(moves) != 1 || moves[0].MovedBy != MovedByHotFolder || moves[0].From != in.Path || moves[0].To != want {
		t.Errorf("recorded moves %+v %v", moves, err)
	}

	// recorded, then the process died before the move
	p := filepath.Join(f.w.Dir, "crashed.png")
	data := strip(t, 255)
	os.WriteFile(p, data, 0o644)
	a, err := f.engine.AnalyzeBytes(context.Background(), p, data)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.Decide(verdict.DefaultThresholds)
	rec := inference.NewRecord(&a, &v)
	recorded, err := audit.FromRecord(&rec, "watch")
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.store.Add(context.Background(), recorded)
	if err != nil {
		t.Fatal(err)
	}
	f.results = nil
	f.tick(t, 0)
	f.tick(t, 2*time.Second)
	if len(f.results) != 1 || !f.results[0].Resumed {
		t.Fatalf("resumed: %+v", f.results)
	}
	crashed := f.inspection(t, id)
	if got := crashed.CurrentPath(); got != filepath.Join(f.w.Dir, "REJECT", "crashed.png") {
		t.Errorf("a resumed strip's file is at %q in the trail", got)
	}
}

// TestDecisionMovesTheFile: a person's P on a strip the hot folder put in
// REVIEW/ moves it to PASS/ (never over a file of the same name there),
// recorded by them; an undo puts it back in REVIEW/; an R then moves it
// to REJECT/.
func TestDecisionMovesTheFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.fileOne(t, "a.png", 128)
	os.WriteFile(filepath.Join(f.w.Dir, "PASS", "a.png"), []byte("another strip"), 0o644)
	if err := f.store.Review(ctx, res.AuditID, verdict.Pass, "alice", ""); err != nil {
		t.Fatal(err)
	}
	rf, err := Refile(ctx, f.store, res.AuditID, "alice")
	passed := filepath.Join(f.w.Dir, "PASS", "a-1.png")
	if err != nil || rf.To != passed || rf.From != res.MovedTo || rf.Note != "" {
		t.Fatalf("refiled %+v, %v; want to %s", rf, err, passed)
	}
	if _, err := os.Stat(res.MovedTo); !os.IsNotExist(err) {
		t.Errorf("the strip is still in REVIEW/: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(f.w.Dir, "PASS", "a.png")); string(b) != "another strip" {
		t.Error("the file already in PASS/ was overwritten")
	}
	in := f.inspection(t, res.AuditID)
	moves, _ := f.store.Moves(ctx, res.AuditID)
	if in.CurrentPath() != passed || len(moves) != 2 || moves[1].MovedBy != "alice" || moves[1].From != res.MovedTo {
		t.Errorf("trail: now %q, moves %+v", in.CurrentPath(), moves)
	}
	if rf, err := Refile(ctx, f.store, res.AuditID, "alice"); err != nil || rf != (Refiled{}) {
		t.Errorf("refiled again where it already is: %+v %v", rf, err)
	}

	if err := f.store.Undo(ctx, res.AuditID, "alice"); err != nil {
		t.Fatal(err)
	}
	if rf, err = Refile(ctx, f.store, res.AuditID, "alice"); err != nil || rf.To != res.MovedTo {
		t.Errorf("after the undo: %+v %v, want back to %s", rf, err, res.MovedTo)
	}
	if err := f.store.Review(ctx, res.AuditID, verdict.Reject, "bob", ""); err != nil {
		t.Fatal(err)
	}
	rejected := filepath.Join(f.w.Dir, "REJECT", "a.png")
	if rf, err = Refile(ctx, f.store, res.AuditID, "bob"); err != nil || rf.To != rejected {
		t.Errorf("R: %+v %v", rf, err)
	}
	if _, err := os.Stat(rejected); err != nil {
		t.Errorf("not in REJECT/: %v", err)
	}
	if v, err := f.store.Verify(ctx); err != nil || len(v.Problems) != 0 || v.ByKind["move"] != 4 {
		t.Errorf("verify: %+v %v", v, err)
	}
}

// TestDecisionOnVanishedFile: a strip whose file left REVIEW/ before the
// operator decided keeps its decision; the move is skipped, and the
// trail and the result say so in one line.
func TestDecisionOnVanishedFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res := f.fileOne(t, "gone.png", 128)
	if err := os.Remove(res.MovedTo); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Review(ctx, res.AuditID, verdict.Reject, "alice", ""); err != nil {
		t.Fatal(err)
	}
	rf, err := Refile(ctx, f.store, res.AuditID, "alice")
	if err != nil || rf.To != "" || rf.Note != "gone.png was not moved to REJECT/: it is no longer in REVIEW/ (the decision is recorded)" {
		t.Fatalf("refiled %+v, %v", rf, err)
	}
	in := f.inspection(t, res.AuditID)
	if in.FinalDecision() != verdict.Reject || in.FileNote != rf.Note || in.CurrentPath() != res.MovedTo {
		t.Errorf("trail: decision %s, note %q, file at %q", in.FinalDecision(), in.FileNote, in.CurrentPath())
	}
	if entries, _ := os.ReadDir(filepath.Join(f.w.Dir, "REJECT")); len(entries) != 0 {
		t.Errorf("something was moved into REJECT/: %v", entries)
	}
}

// TestRefileMovesOnlyHotFolderStrips: a strip opened elsewhere (scan, the
// window) stays where it is whatever a person decides; a destination
// replaced by a link is not written through, and the trail says so.
func TestRefileMovesOnlyHotFolderStrips(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	elsewhere := filepath.Join(t.TempDir(), "REVIEW")
	os.Mkdir(elsewhere, 0o755)
	p := filepath.Join(elsewhere, "scanned.png")
	os.WriteFile(p, strip(t, 128), 0o644)
	in := audit.Inspection{Source: "scan", Path: p, SHA256: strings.Repeat("a", 64), ModelName: "m", ModelVersion: "1",
		ModelSHA256: strings.Repeat("b", 64), PassThreshold: 0.4, RejectThreshold: 0.65, AutoDecision: verdict.Review}
	id, err := f.store.Add(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Review(ctx, id, verdict.Pass, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if rf, err := Refile(ctx, f.store, id, "alice"); err != nil || rf != (Refiled{}) {
		t.Errorf("a scanned strip: %+v %v", rf, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("a scanned strip was moved: %v", err)
	}

	res := f.fileOne(t, "linked.png", 128)
	outside := t.TempDir()
	os.Remove(filepath.Join(f.w.Dir, "PASS"))
	os.Symlink(outside, filepath.Join(f.w.Dir, "PASS"))
	f.store.Review(ctx, res.AuditID, verdict.Pass, "alice", "")
	rf, err := Refile(ctx, f.store, res.AuditID, "alice")
	if err != nil || rf.To != "" || !strings.Contains(rf.Note, "PASS is a link") {
		t.Errorf("PASS replaced by a link: %+v %v", rf, err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
	if n := f.inspection(t, res.AuditID).FileNote; n != rf.Note {
		t.Errorf("the trail's note %q", n)
	}
	if _, err := Refile(ctx, f.store, 999, "alice"); err == nil || !strings.Contains(err.Error(), "no inspection 999") {
		t.Errorf("refile of no inspection: %v", err)
	}
}
