// Package station is the station's one inspect-and-record path, free of
// Fyne and HTTP: an analysed strip is decided with the thresholds in force
// and recorded in the audit trail, and only then is the result handed back
// to whoever shows, prints, moves or answers it. "Recorded before
// reported" is written here once; `scan`, `watch`, `serve` and the window
// all go through Conclude (or Inspect, which analyses first).
package station

import (
	"context"
	"errors"
	"fmt"

	"steelinspect/audit"
	"steelinspect/inference"
)

// Source says where a strip came in, for its audit record.
type Source struct {
	// Name is the entry point: SourceWindow, SourceScan, SourceWatch or
	// SourceAPI.
	Name string
	// AuditPath, when set, replaces the image's path in the audit record
	// (the API names the request there).
	AuditPath string
}

// Entry points, as the audit trail's source column names them.
const (
	SourceWindow = "window"
	SourceScan   = "scan"
	SourceWatch  = "watch"
	SourceAPI    = "api"
)

// Result is a decided, recorded strip.
type Result struct {
	Analysis inference.Analysis
	Verdict  inference.Verdict
	Record   inference.Record
	// AuditID is the strip's audit record; 0 when there is no trail.
	AuditID int64
}

// Station decides and records strips. Its Store may be nil (no audit
// trail: a scan without --audit, a window started with --no-audit).
type Station struct {
	Store *audit.Store
}

// Conclude decides an analysed strip with thresholds t and records it in
// the audit trail; it returns only once the record is durable. A strip
// that cannot be recorded is an error: it must not be reported as done.
// The record is written with recordCtx (a caller whose own request may be
// cancelled still records what it scored).
func (s Station) Conclude(recordCtx context.Context, a inference.Analysis, t inference.Thresholds, src Source) (Result, error) {
	v, err := a.Decide(t)
	if err != nil {
		return Result{}, err
	}
	res := Result{Analysis: a, Verdict: v, Record: inference.NewRecord(&a, &v)}
	if s.Store == nil {
		return res, nil
	}
	in := audit.FromRecord(&res.Record, src.Name)
	if src.AuditPath != "" {
		in.Path = src.AuditPath
	}
	if res.AuditID, err = s.Store.Add(recordCtx, in); err != nil {
		return Result{}, &notRecordedError{v.Decision, err}
	}
	return res, nil
}

// ErrNotRecorded matches the error of a strip that was scored but could not
// be recorded: the caller must not report it as done (scan stops, the API
// answers 500, the hot folder leaves the file to retry).
var ErrNotRecorded = errors.New("not recorded in the audit trail")

type notRecordedError struct {
	decision inference.Decision
	err      error
}

func (e *notRecordedError) Error() string {
	return fmt.Sprintf("scored %s but not recorded in the audit trail, so not counted: %v", e.decision, e.err)
}
func (e *notRecordedError) Is(target error) bool { return target == ErrNotRecorded }
func (e *notRecordedError) Unwrap() error        { return e.err }

// Analyzer scores image bytes (an *inference.Engine).
type Analyzer interface {
	AnalyzeBytes(ctx context.Context, name string, data []byte) (inference.Analysis, error)
}

// Inspect analyses image bytes with e, then concludes them (Conclude).
// Analysis errors (an unreadable image) come back unrecorded.
func (s Station) Inspect(ctx context.Context, e Analyzer, name string, data []byte, t inference.Thresholds, src Source) (Result, error) {
	a, err := e.AnalyzeBytes(ctx, name, data)
	if err != nil {
		return Result{}, err
	}
	return s.Conclude(ctx, a, t, src)
}
