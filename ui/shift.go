package ui

import (
	"fmt"
	"os"
	"sort"
	"time"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// ShiftLength is how far back the Processed list reaches when the window
// starts: the strips of this shift. Every unresolved REVIEW is restored
// whatever its age.
const ShiftLength = 12 * time.Hour

// maxRestored bounds the strips restored on start.
const maxRestored = 5000

// restoreShift fills the Processed list and the review queue from the
// audit trail on start: this shift's strips and every REVIEW no operator
// has decided, whichever entry point recorded them, as long as their image
// file is still there (an API upload is not kept), where the trail last
// put it (a watched folder's REVIEW/, PASS/ or REJECT/). Restored strips keep
// their audit records; showing one analyses it again for display only.
func (i *Inspector) restoreShift() {
	store := i.store
	i.restoring = true // strips opened meanwhile wait to be compared with it (reopen.go)
	i.goBackground(func() func() {
		after := i.readShift(store)
		return func() {
			defer i.restored()
			after()
		}
	})
}

// readShift reads the strips to restore, off the UI goroutine, and
// returns what adds them (or reports the failure) on it.
func (i *Inspector) readShift(store *audit.Store) func() {
	shift, err := store.History(i.ctx, audit.Query{Since: time.Now().Add(-ShiftLength), Limit: maxRestored})
	if err != nil {
		return func() { i.showError("Could not restore the shift", err.Error()) }
	}
	pending, err := store.History(i.ctx, audit.Query{Decision: verdict.Some(verdict.Review), Limit: maxRestored})
	if err != nil {
		return func() { i.showError("Could not restore the review queue", err.Error()) }
	}
	rows := restorable(append(shift, pending...))
	return func() { i.addRestored(rows) }
}

// restorable keeps one row per image file that still exists (its latest),
// oldest first. A file's path is where the trail last put it: a strip the
// hot folder moved into REVIEW/ is found there.
func restorable(rows []audit.Inspection) []audit.Inspection {
	latest := map[string]audit.Inspection{}
	for _, r := range rows {
		path := r.CurrentPath()
		if prev, ok := latest[path]; ok && prev.ID >= r.ID {
			continue
		}
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			continue
		}
		latest[path] = r
	}
	out := make([]audit.Inspection, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// addRestored adds restored strips to the Processed list (before anything
// loaded since) without showing one.
func (i *Inspector) addRestored(rows []audit.Inspection) {
	added := i.processed.restore(rows)
	if added == 0 {
		return
	}
	i.refreshImageCount()
	i.review.refresh()
	i.setStatus(fmt.Sprintf("Restored %d strip(s) of this shift from the audit trail, %d waiting for review", added, i.reviewCount()))
}

// moved follows a strip whose file was moved to path (a hot-folder strip
// filed by its decision): the Processed list finds it there, and showing
// it again reads it from there.
func (i *Inspector) moved(it *item, path string) {
	if idx := i.processed.moved(it, path); idx >= 0 && idx == i.current {
		i.refreshResult()
	}
}

// shiftSummary is what the station has decided this session: strips by
// final decision (the operator's over the automatic one), pending
// reviews, and the line's rate.
type shiftSummary struct {
	strips, pass, review, reject, pending int
	// perHour is the strips recorded in the last rateWindow, per hour of
	// it; rateKnown is false until the shift has run rateMinSpan.
	perHour   float64
	rateKnown bool
}

// The strips/h figure counts the strips of the last hour, and only once
// the shift has run a quarter of an hour: a folder opened at once is not
// a line rate (a 4-second batch read "3245 strips/h").
const (
	rateWindow  = time.Hour
	rateMinSpan = 15 * time.Minute
)

// summarize counts the recorded strips in the Processed list.
func (p *processedList) summarize(now time.Time) shiftSummary {
	var s shiftSummary
	var first time.Time
	recent := 0
	for _, it := range p.items {
		if it.auditID == 0 {
			continue
		}
		s.strips++
		switch it.final() {
		case verdict.Pass:
			s.pass++
		case verdict.Review:
			s.review++
		default:
			s.reject++
		}
		if it.needsReview() {
			s.pending++
		}
		if first.IsZero() || it.inspectedAt.Before(first) {
			first = it.inspectedAt
		}
		if now.Sub(it.inspectedAt) <= rateWindow {
			recent++
		}
	}
	if span := now.Sub(first); s.strips > 0 && span >= rateMinSpan {
		s.perHour, s.rateKnown = float64(recent)/min(span, rateWindow).Hours(), true
	}
	return s
}

// String is the summary as the Processed panel shows it.
func (s shiftSummary) String() string {
	rate := fmt.Sprintf("rate after %.0f min", rateMinSpan.Minutes())
	if s.rateKnown {
		rate = fmt.Sprintf("%.0f strips/h", s.perHour)
	}
	return fmt.Sprintf("Shift: %s · %d PASS · %d REVIEW · %d REJECT\n%d waiting for review · %s",
		plural(s.strips, "strip", "strips"), s.pass, s.review, s.reject, s.pending, rate)
}

// final is the strip's disposition: the operator's decision over the
// recorded automatic one (verdict.Final).
func (it *item) final() verdict.Decision {
	if it.review != nil {
		return verdict.Final(it.auto, verdict.Some(it.review.decision))
	}
	return it.auto
}

// plural is n with the word for one or for several ("1 strip", "3 strips").
func plural(n int, one, several string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, several)
}
