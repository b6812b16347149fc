package learn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"steelinspect/audit"
	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// Every strip whose decision a person made or confirmed is a label: a
// REVIEW decided with P or R, an override, or an undo decided again (the
// trail's decision in force). Automatic decisions nobody confirmed are
// not. The pixels come from the image archive, checked against the sha256
// the trail recorded for the strip.

// TrailSource says which trail to learn from.
type TrailSource struct {
	// DB is the audit database.
	DB string
	// Since keeps the decisions of the last Since (0: all).
	Since time.Duration
}

// TrailCounts is what a trail holds for learning.
type TrailCounts struct {
	// Decided counts the strips a person decided, by final decision.
	Decided map[verdict.Decision]int
	// Usable counts those whose pixels were found and checked.
	Usable map[verdict.Decision]int
}

// readTrail lists the strips a person decided in the trail, with their
// archived pixels. A strip without an archived copy, or whose copy no
// longer matches its record's sha256, is left out and named.
func readTrail(ctx context.Context, src TrailSource) ([]Example, []Skipped, TrailCounts, error) {
	counts := TrailCounts{Decided: map[verdict.Decision]int{}, Usable: map[verdict.Decision]int{}}
	if _, err := os.Stat(src.DB); err != nil {
		return nil, nil, counts, fmt.Errorf("audit trail %s: %w", src.DB, errors.Unwrap(err))
	}
	store, err := audit.Open(src.DB)
	if err != nil {
		return nil, nil, counts, err
	}
	defer store.Close()
	q := audit.Query{}
	if src.Since > 0 {
		q.Since = time.Now().Add(-src.Since)
	}
	var out []Example
	var skipped []Skipped
	seen := map[string]bool{}
	err = store.EachInspection(ctx, q, func(in *audit.Inspection) error {
		d, ok := personDecided(in)
		if !ok {
			return nil
		}
		counts.Decided[d]++
		if seen[in.SHA256] {
			return nil // the same strip inspected again: its latest decision counts once
		}
		path, why := pixelsOf(in)
		if why != "" {
			skipped = append(skipped, Skipped{fmt.Sprintf("trail record %d (%s)", in.ID, in.Path), why})
			return nil
		}
		seen[in.SHA256] = true
		counts.Usable[d]++
		x := Example{Path: path, Defective: d == verdict.Reject, From: src.DB}
		if !x.Defective {
			x.Masks = map[int]*evaluate.Mask{}
		}
		out = append(out, x)
		return nil
	})
	return out, skipped, counts, err
}

// Decided counts the strips a person decided in store, by final decision
// (PASS, REJECT), each strip once: what learning from the trail can use,
// before it looks for their pixels.
func Decided(ctx context.Context, store *audit.Store) (map[verdict.Decision]int, error) {
	out := map[verdict.Decision]int{}
	seen := map[string]bool{}
	err := store.EachInspection(ctx, audit.Query{}, func(in *audit.Inspection) error {
		if d, ok := personDecided(in); ok && !seen[in.SHA256] {
			seen[in.SHA256] = true
			out[d]++
		}
		return nil
	})
	return out, err
}

// personDecided is the decision a person made or confirmed on in (the
// decision in force, PASS or REJECT); false when nobody did.
func personDecided(in *audit.Inspection) (verdict.Decision, bool) {
	d, ok := in.OperatorDecision.Get()
	return d, ok && (d == verdict.Pass || d == verdict.Reject)
}

// pixelsOf finds a decided strip's pixels: its archived copy, or the file
// itself where it still lies, each only if its sha256 is the recorded one.
func pixelsOf(in *audit.Inspection) (string, string) {
	var why string
	// the archived copy first, then the file where the trail last saw it
	// (the hot folder moves it into its outcome folder, and again on a
	// person's decision), then where it was scored
	for k, p := range []string{in.ArchivePath, in.CurrentPath(), in.Path} {
		if p == "" || (k == 2 && p == in.CurrentPath()) {
			continue
		}
		data, err := inference.ReadImageFile(p)
		if err != nil {
			if why == "" {
				why = "no archived copy to learn from (" + err.Error() + ")"
			}
			continue
		}
		if inference.SHA256Hex(data) != in.SHA256 {
			why = fmt.Sprintf("%s no longer matches its record's sha256 %s: left out", p, in.SHA256[:12])
			continue
		}
		return p, ""
	}
	if why == "" {
		why = "no archived copy to learn from (run the station with --archive)"
	}
	return "", why
}

// trailTooFew says how many more decided strips the trail needs.
func trailTooFew(c TrailCounts) error {
	p, r := c.Usable[verdict.Pass], c.Usable[verdict.Reject]
	if p >= MinEach && r >= MinEach {
		return nil
	}
	return fmt.Errorf("the trail holds %d strips a person decided PASS and %d decided REJECT with their pixels (%d and %d decided in all); "+
		"learning needs at least %d of each: %d more PASS and %d more REJECT (about %d of each to trust the figures)",
		p, r, c.Decided[verdict.Pass], c.Decided[verdict.Reject], MinEach,
		max(0, MinEach-p), max(0, MinEach-r), TrustEach)
}
