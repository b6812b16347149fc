package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// TestFileMovesAreChained: where a strip's file went is in the trail: the
// inspection keeps the path it was scored at, FilePath follows the
// newest move made, a move not made says why without losing where the
// file was last put, the export carries both, and a move changed with
// the sqlite3 shell fails verify.
func TestFileMovesAreChained(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	in := sample("/hot/a.png", verdict.Review, 0.5)
	in.Source = "watch"
	id, err := s.Add(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMove(ctx, FileMove{InspectionID: id, MovedBy: "hot folder", From: "/hot/a.png", To: "/hot/REVIEW/a.png"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.History(ctx, Query{ID: id})
	if err != nil || len(rows) != 1 {
		t.Fatalf("history: %v %d", err, len(rows))
	}
	if r := rows[0]; r.Path != "/hot/a.png" || r.FilePath != "/hot/REVIEW/a.png" || r.CurrentPath() != "/hot/REVIEW/a.png" || r.FileNote != "" {
		t.Errorf("after the hot folder's move: path %q, file path %q, note %q", r.Path, r.FilePath, r.FileNote)
	}
	if _, err := s.AddMove(ctx, FileMove{InspectionID: id, MovedBy: "alice", From: "/hot/REVIEW/a.png", Note: "a.png was not moved to PASS/: it is no longer in REVIEW/"}); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.History(ctx, Query{ID: id})
	if r := rows[0]; r.FilePath != "/hot/REVIEW/a.png" || !strings.Contains(r.FileNote, "no longer in REVIEW/") {
		t.Errorf("after a move not made: file path %q, note %q", r.FilePath, r.FileNote)
	}
	moves, err := s.Moves(ctx, id)
	if err != nil || len(moves) != 2 || moves[0].MovedBy != "hot folder" || moves[1].To != "" || moves[1].MovedBy != "alice" || moves[1].MovedAt.IsZero() {
		t.Fatalf("moves: %+v %v", moves, err)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v %d", err, len(recs))
	}
	col := map[string]string{}
	for k, name := range recs[0] {
		col[name] = recs[1][k]
	}
	if col["path"] != "/hot/a.png" || col["file_path"] != "/hot/REVIEW/a.png" || !strings.Contains(col["file_note"], "no longer in REVIEW/") {
		t.Errorf("export: path %q, file_path %q, file_note %q", col["path"], col["file_path"], col["file_note"])
	}

	if v := verify(t, s); len(v.Problems) != 0 || v.ByKind["move"] != 2 {
		t.Fatalf("intact trail: %+v", v)
	}
	if _, err := s.db.Exec(`UPDATE file_moves SET to_path = '/elsewhere/a.png' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) == 0 || !strings.Contains(v.Problems[0], "move 1 was changed after it was recorded") {
		t.Errorf("a move changed by hand: %q", v.Problems)
	}
}

// TestAddMoveRefusesIncompleteMoves: a move without who, where from, or
// (when not made) why, or of no inspection, is refused in one line.
func TestAddMoveRefusesIncompleteMoves(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	id, err := s.Add(ctx, sample("/hot/a.png", verdict.Review, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    FileMove
		want string
	}{
		{FileMove{InspectionID: id, From: "/hot/a.png", To: "/hot/PASS/a.png"}, "who moved it is required"},
		{FileMove{InspectionID: id, MovedBy: "ana", To: "/hot/PASS/a.png"}, "the path it was moved from is required"},
		{FileMove{InspectionID: id, MovedBy: "ana", From: "/hot/a.png"}, "a move not made needs a note"},
		{FileMove{InspectionID: id + 1, MovedBy: "ana", From: "/hot/a.png", To: "/hot/PASS/a.png"}, "no inspection"},
	} {
		if _, err := s.AddMove(ctx, c.m); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want one line saying %q", c.m, err, c.want)
		}
	}
	if moves, _ := s.Moves(ctx, id); len(moves) != 0 {
		t.Errorf("refused moves were recorded: %+v", moves)
	}
}

// TestVersionTwoTrailGainsFileMoves: a trail of schema version 2 (before
// file moves) opens at the newest version with the table, keeps its
// chain, and records moves.
func TestVersionTwoTrailGainsFileMoves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	all := migrations
	withMigrations(t, all[:2]...)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Add(context.Background(), sample("/hot/a.png", verdict.Pass, 0.1))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := shape(t, s.db)["file_moves"]; ok {
		t.Fatal("a version 2 trail already has file_moves")
	}
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	withMigrations(t, all...)
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, s.db); v != len(all) || v < 3 {
		t.Errorf("schema version %d, want %d", v, len(all))
	}
	if cols := shape(t, s.db)["file_moves"]; !slices.Equal(cols, []string{"id", "inspection_id", "moved_at", "moved_by", "from_path", "to_path", "note"}) {
		t.Errorf("file_moves has %v", cols)
	}
	if v := verify(t, s); len(v.Problems) != 0 || !strings.HasSuffix(head, ":"+v.Head) {
		t.Errorf("the step changed the chain: %+v (head was %s)", v, head)
	}
	if _, err := s.AddMove(context.Background(), FileMove{InspectionID: id, MovedBy: "hot folder", From: "/hot/a.png", To: "/hot/PASS/a.png"}); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s); len(v.Problems) != 0 || v.ByKind["move"] != 1 {
		t.Errorf("after a move: %+v", v)
	}
}
