// Package hotfolder watches a folder where a line camera drops strip images,
// scores each new file once it is completely written, records the decision
// in the audit trail and moves the file into a PASS, REVIEW or REJECT
// subfolder (ERROR for files that are not images). It survives restarts:
// files still in the folder are unprocessed, and a file whose decision was
// recorded just before a crash is moved, not scored again.
package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Analyzer scores image bytes (an *inference.Engine).
type Analyzer interface {
	AnalyzeBytes(ctx context.Context, name string, data []byte) (inference.Analysis, error)
	Manifest() *inference.Manifest
}

// Watcher scores the files that appear in Dir.
type Watcher struct {
	Dir    string
	Engine Analyzer
	// Station decides each strip and records it in its trail
	// (Station.Trail; none: nothing is recorded), keeping the copies its
	// archive asks for. The strips are decided with the thresholds it
	// follows (Station.Follow: the trail's, read for each strip, which a
	// supervisor may change while the folder is watched; a strip whose
	// thresholds cannot be read is left in place to be tried again), else
	// with Thresholds. Nil: a station without trail or archive.
	Station    *station.Station
	Thresholds verdict.Thresholds
	// Settle is how long a file's size and time must stay unchanged before
	// it counts as completely written.
	Settle time.Duration
	// IncompleteWait is how long a settled file that is visibly unfinished
	// (a JPEG without its end marker, a PNG without its end chunk, a BMP
	// shorter than its header says) is waited for after it last changed:
	// cameras and network copies pause mid-file for seconds. After it, the
	// file is scored as it is and goes to ERROR as truncated. 0 means
	// DefaultIncompleteWait.
	IncompleteWait time.Duration
	// Poll is how often the folder is listed.
	Poll time.Duration
	// OnResult, if set, is called after each file is handled.
	OnResult func(Result)
	// Log, if set, hears one line for each entry skipped (a named pipe or
	// a folder named like an image), once while it stays.
	Log func(line string)
	// now is the clock (tests).
	now func() time.Time

	seen    map[string]fileState
	skipped map[string]bool // entries skipped and logged, as of the last listing
}

// Result is what happened to one file.
type Result struct {
	Name     string
	Decision verdict.Optional // PASS, REVIEW, REJECT, or none with Err set
	MovedTo  string
	Err      error
	Resumed  bool // the decision came from the audit trail, not a new inference
	// Analysis is the new inference (without the decoded pixels); nil when
	// Resumed or on error.
	Analysis *inference.Analysis
	// AuditID is the strip's audit record (0 without a store).
	AuditID int64
	// Warning is something that went wrong beside the decision (the
	// strip could not be archived); "" when nothing did.
	Warning string
}

type fileState struct {
	size    int64
	modTime time.Time
	since   time.Time // when this size/time was first seen
}

// DefaultIncompleteWait is Watcher.IncompleteWait's default.
const DefaultIncompleteWait = 30 * time.Second

// Ignored reports a name the watcher never picks up (files.Ignored):
// anything that is not an image file name, dot-files, and names ending in
// .part or .tmp. A writer that cannot write in one go writes under such a
// name and renames the file when it is complete (write-then-rename): the
// rename is atomic, so the watcher sees the whole file at once.
func Ignored(name string) bool { return files.Ignored(name) }

// Outcome folders inside Dir.
var outcomeDirs = []string{verdict.Pass.String(), verdict.Review.String(), verdict.Reject.String(), "ERROR"}

// Run watches until ctx ends. Folder-level errors (the folder vanished,
// cannot create the outcome folders) end it with an error.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.prepare(); err != nil {
		return err
	}
	tick := time.NewTicker(w.Poll)
	defer tick.Stop()
	for {
		if err := w.scanOnce(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// prepare fills defaults and creates the outcome folders.
func (w *Watcher) prepare() error {
	if w.Settle <= 0 {
		w.Settle = time.Second
	}
	if w.Poll <= 0 {
		w.Poll = 250 * time.Millisecond
	}
	if w.IncompleteWait <= 0 {
		w.IncompleteWait = DefaultIncompleteWait
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.Station == nil {
		w.Station = station.FromParts(nil, nil, nil)
	}
	if err := w.Thresholds.Validate(); err != nil && w.Station.Follow() == nil {
		return err
	}
	for _, d := range outcomeDirs {
		if err := os.Mkdir(filepath.Join(w.Dir, d), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("hot folder: %w", err)
		}
		if err := outcomeFolder(w.Dir, d); err != nil {
			return fmt.Errorf("hot folder: %w", err)
		}
	}
	w.seen = map[string]fileState{}
	return nil
}

// scanOnce lists the folder and handles every file that has settled.
//
// Cyclomatic complexity above 15, kept: the settle-and-truncation state machine of one poll, its rules in the order they apply.
//
//gocyclo:ignore
func (w *Watcher) scanOnce(ctx context.Context) error {
	names, err := w.list()
	if err != nil {
		return err
	}
	now := w.now()
	present := map[string]bool{}
	for _, name := range names {
		if ctx.Err() != nil {
			return nil
		}
		present[name] = true
		st, err := os.Stat(filepath.Join(w.Dir, name))
		if err != nil {
			continue // vanished between listing and stat: nothing to do
		}
		prev, ok := w.seen[name]
		if !ok || prev.size != st.Size() || !prev.modTime.Equal(st.ModTime()) {
			w.seen[name] = fileState{size: st.Size(), modTime: st.ModTime(), since: now}
			continue
		}
		unchanged := now.Sub(prev.since)
		if unchanged < w.Settle {
			continue
		}
		unfinished := Unfinished(filepath.Join(w.Dir, name), st.Size())
		if unfinished != "" && unchanged < w.IncompleteWait {
			continue // a writer's pause, not the end: wait
		}
		res := w.handle(ctx, name, unfinished)
		delete(w.seen, name)
		if w.OnResult != nil {
			w.OnResult(res)
		}
	}
	for name := range w.seen {
		if !present[name] {
			delete(w.seen, name)
		}
	}
	return nil
}

// list lists the folder's images by the one rule (files.ListImages), in
// name order; what it skips (a named pipe or a folder named like an
// image, a link to nothing) is logged once while it stays there.
func (w *Watcher) list() ([]string, error) {
	if st, err := os.Stat(w.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("hot folder: %s is no longer a folder", w.Dir)
	}
	var names []string
	skipped := map[string]bool{}
	for _, f := range files.ListImages(w.Dir, false) {
		name := filepath.Base(f.Path)
		if f.Err == nil {
			names = append(names, name)
			continue
		}
		skipped[name] = true
		if !w.skipped[name] && w.Log != nil {
			w.Log(fmt.Sprintf("%s: skipped: %v", name, f.Err))
		}
	}
	w.skipped = skipped
	return names, nil
}

// handle scores one settled file; unfinished says why it still looks
// incomplete after IncompleteWait ("" when it looks whole).
func (w *Watcher) handle(ctx context.Context, name, unfinished string) Result {
	path := filepath.Join(w.Dir, name)
	res := Result{Name: name}
	// the size is refused before the file is read, as scan refuses it
	data, err := inference.ReadImageFile(path)
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", name, err)
		if moved, merr := w.move(name, "ERROR"); merr == nil {
			res.MovedTo = moved
			res.Warning = writeErrorNote(moved, res.Err)
		}
		return res
	}
	if store := w.Station.Trail(); store != nil {
		// A decision recorded before a crash: move the file, don't rescore.
		if prev, err := store.History(ctx, audit.Query{Path: path, SHA256: inference.SHA256Hex(data)}); err == nil && len(prev) > 0 {
			last := prev[len(prev)-1]
			res.Decision, res.Resumed, res.AuditID = verdict.Some(last.AutoDecision), true, last.ID
			res.MovedTo, res.Err = w.move(name, last.AutoDecision.String())
			w.recordMove(ctx, &res, path)
			return res
		}
	}
	th := w.Thresholds
	if inForce := w.Station.Follow(); inForce != nil {
		if th, err = inForce(ctx); err != nil {
			res.Err = fmt.Errorf("%s: thresholds in force: %w (left in place to be tried again)", name, err)
			return res
		}
	}
	r, err := w.Station.Inspect(ctx, w.Engine, path, data, th, station.Source{Name: station.SourceWatch, Data: data})
	if err == nil && r.ArchiveErr != nil {
		res.Warning = fmt.Sprintf("%s: %v", name, r.ArchiveErr)
	}
	if errors.Is(err, station.ErrNotRecorded) {
		res.Err = err // not recorded: leave the file in place to be retried
		return res
	}
	if err != nil && unfinished != "" {
		err = fmt.Errorf("truncated: %s, unchanged for %s (the writer stopped or was cut off): %w", unfinished, w.IncompleteWait, err)
	}
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", name, err)
		if moved, merr := w.move(name, "ERROR"); merr == nil {
			res.MovedTo = moved
			res.Warning = writeErrorNote(moved, err)
		}
		return res
	}
	a := r.Analysis
	a.Decoded = inference.DecodedImage{} // results outlive the strip: no pixels
	res.Decision, res.Analysis, res.AuditID = r.Record.Decision, &a, r.AuditID
	res.MovedTo, res.Err = w.move(name, res.Decision.String())
	w.recordMove(ctx, &res, path)
	return res
}

// MovedByHotFolder is who the trail says moved a file the hot folder
// filed into its outcome folder.
const MovedByHotFolder = "hot folder"

// recordMove records in the trail where res's file went from from (a
// recorded strip moved into its outcome folder). The file has moved
// whatever happens here: a move that cannot be recorded is a warning.
func (w *Watcher) recordMove(ctx context.Context, res *Result, from string) {
	store := w.Station.Trail()
	if store == nil || res.AuditID == 0 || res.MovedTo == "" {
		return
	}
	// recorded even when the watch is being stopped: the move was made
	_, err := store.AddMove(context.WithoutCancel(ctx), audit.FileMove{InspectionID: res.AuditID, MovedBy: MovedByHotFolder, From: from, To: res.MovedTo})
	if err != nil {
		res.Warning = strings.TrimPrefix(res.Warning+"; ", "; ") +
			fmt.Sprintf("%s: moved to %s, but the trail does not say so: %v", res.Name, res.MovedTo, err)
	}
}

// move renames Dir/name into Dir/outcome/, never overwriting a file there.
func (w *Watcher) move(name, outcome string) (string, error) {
	return moveInto(w.Dir, filepath.Join(w.Dir, name), name, outcome)
}

// moveInto renames the file src into dir/outcome/ as name, or name with
// -1, -2 … before the extension when a file there has it: a file there
// is never overwritten.
func moveInto(dir, src, name, outcome string) (string, error) {
	if err := outcomeFolder(dir, outcome); err != nil {
		return "", fmt.Errorf("move %s to %s: %w", name, outcome, err)
	}
	dst := filepath.Join(dir, outcome, name)
	ext := filepath.Ext(name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(dir, outcome, fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext))
	}
	if err := os.Rename(src, dst); err != nil {
		return "", fmt.Errorf("move %s to %s: %w", name, outcome, err)
	}
	return dst, nil
}

// outcomeFolder checks that dir/outcome is a real folder inside the hot
// folder dir, not a link that would carry strips (and their notes)
// elsewhere; it is checked before every move, since it can be replaced
// meanwhile.
func outcomeFolder(dir, outcome string) error {
	st, err := os.Lstat(filepath.Join(dir, outcome))
	switch {
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a link, not a folder inside the hot folder: nothing is moved through it (replace it by a folder)", outcome)
	case !st.IsDir():
		return fmt.Errorf("%s is not a folder: nothing is moved into it", outcome)
	}
	return nil
}

// writeErrorNote writes why a file went to ERROR beside it, as
// NAME.error.txt. A note that cannot be written whole (a full disk) is
// removed rather than left empty, and what it would have said is
// returned, for the log.
func writeErrorNote(moved string, reason error) string {
	note := moved + ".error.txt"
	if err := os.WriteFile(note, []byte(reason.Error()+"\n"), 0o644); err != nil {
		os.Remove(note)
		return fmt.Sprintf("%s: the note saying why it went to ERROR could not be written (%v); why: %v", filepath.Base(moved), err, reason)
	}
	return ""
}
