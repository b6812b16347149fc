package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Refiled is what Refile did with a strip's file.
type Refiled struct {
	// From is where the file was (the trail's path), To where it went;
	// both "" when the strip is none the hot folder filed, or its file
	// already lies in its decision's folder.
	From, To string
	// Note says in one line why the file was not moved ("" when it was,
	// or when there was nothing to move). The trail records it too.
	Note string
}

// Refile puts the file of a strip the hot folder filed (inspection id)
// into the outcome folder of its decision in force, as the trail has it
// once a person decided: PASS/ or REJECT/ for an operator's P or R (or an
// override), back to the automatic decision's folder after an undo. The
// move is recorded in the trail, by who. The file is never written over:
// a name already taken there gets -1, -2 … (as the hot folder's own
// moves). A strip another entry point recorded is left alone, and so is
// one whose file the trail does not place in an outcome folder of the
// hot folder it was scored in. A file that is no longer where the trail
// placed it is not moved; the trail records that, and Note says so.
func Refile(ctx context.Context, store *audit.Store, id int64, by string) (Refiled, error) {
	rows, err := store.History(ctx, audit.Query{ID: id})
	if err != nil {
		return Refiled{}, err
	}
	if len(rows) == 0 {
		return Refiled{}, fmt.Errorf("no inspection %d", id)
	}
	in := rows[0]
	dir, folder, ok := filedIn(&in)
	want := in.FinalDecision()
	if !ok || folder == want {
		return Refiled{}, nil
	}
	from := in.FilePath
	// under the name it arrived with: one renamed -1 to keep clear of
	// another strip's file goes back to its own name where it can
	name := filepath.Base(in.Path)
	var to, note string
	if _, serr := os.Lstat(from); errors.Is(serr, fs.ErrNotExist) {
		note = fmt.Sprintf("%s was not moved to %s/: it is no longer in %s/ (the decision is recorded)", filepath.Base(from), want, folder)
	} else if moved, merr := moveInto(dir, from, name, want.String()); merr != nil {
		note = fmt.Sprintf("%s was not moved to %s/ (the decision is recorded): %v", filepath.Base(from), want, merr)
	} else {
		to = moved
	}
	// recorded even when ctx ends now: the decision and the move were made
	_, err = store.AddMove(context.WithoutCancel(ctx), audit.FileMove{InspectionID: id, MovedBy: by, From: from, To: to, Note: note})
	if err != nil && to != "" {
		err = fmt.Errorf("%s: moved to %s, but the trail does not say so: %w", filepath.Base(from), to, err)
	}
	return Refiled{From: from, To: to, Note: note}, err
}

// filedIn says where the hot folder filed in's file, by the trail: the
// hot folder it was scored in (dir) and the outcome folder its newest
// recorded move put it in (PASS, REVIEW or REJECT); ok is false for a
// strip the hot folder did not file there.
func filedIn(in *audit.Inspection) (dir string, folder verdict.Decision, ok bool) {
	if in.Source != station.SourceWatch || in.FilePath == "" {
		return "", 0, false
	}
	dir = filepath.Dir(filepath.Dir(in.FilePath))
	folder, err := verdict.ParseDecision(filepath.Base(filepath.Dir(in.FilePath)))
	ok = dir == filepath.Dir(in.Path) && err == nil
	return dir, folder, ok
}
