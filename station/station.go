// Package station is the station's one inspect-and-record path, free of
// Fyne and HTTP: an analysed strip is decided with the thresholds in force
// and recorded in the audit trail, and only then is the result handed back
// to whoever shows, prints, moves or answers it. "Recorded before
// reported" is written here once; `scan`, `watch`, `serve` and the window
// all go through Conclude (or Inspect, which analyses first).
//
// Open opens the station once for each of them: its audit trail, its
// archive, its engine and the thresholds in force (the trail decides),
// and StartLine its line outputs (MQTT, OPC UA, central), each an Output.
package station

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"time"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/report"
	"steelinspect/verdict"
)

// Source says where a strip came in, for its audit record.
type Source struct {
	// Name is the entry point: SourceWindow, SourceScan, SourceWatch or
	// SourceAPI.
	Name string
	// AuditPath, when set, replaces the image's path in the audit record
	// (the API names the request there).
	AuditPath string
	// Data is the strip as it came in, when the caller holds it (the API,
	// the hot folder); else the archive reads the analysed file.
	Data []byte
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
	Verdict  verdict.Verdict
	Record   verdict.Record
	// AuditID is the strip's audit record; 0 when there is no trail.
	AuditID int64
	// Archived is the strip's archived copy, when one was kept;
	// ArchiveErr says why a copy that should have been kept was not (the
	// strip is recorded all the same).
	Archived   archive.Copy
	ArchiveErr error
}

// Recorder is a trail the station records its decisions in: its own
// SQLite trail (*audit.Store), or the trail API instances share in the
// central PostgreSQL (*central.SharedTrail). Add returns only once the
// record is durable.
type Recorder interface {
	Add(ctx context.Context, in audit.Inspection) (int64, error)
	AddPurge(ctx context.Context, path string, bytes int64, reason string) error
}

// Station decides and records strips. Its Store may be nil (no audit
// trail: a scan without --audit, a window started with --no-audit).
type Station struct {
	Store Recorder
	// Archive, when set, keeps copies of the strips its policy asks for,
	// each recorded with its path and sha256, and purges by retention and
	// quota, each purge recorded.
	Archive *archive.Archive

	// what Open opened; nil for a Station made as a literal
	*opened
}

// Conclude decides an analysed strip with thresholds t and records it in
// the audit trail; it returns only once the record is durable. A strip
// that cannot be recorded is an error: it must not be reported as done.
// The record is written with recordCtx (a caller whose own request may be
// cancelled still records what it scored).
func (s *Station) Conclude(recordCtx context.Context, a inference.Analysis, t verdict.Thresholds, src Source) (Result, error) {
	v, err := a.Decide(t)
	if err != nil {
		return Result{}, err
	}
	res := Result{Analysis: a, Verdict: v, Record: inference.NewRecord(&a, &v)}
	s.archive(&res, src)
	if !s.recording() {
		return res, nil
	}
	in, err := audit.FromRecord(&res.Record, src.Name)
	if err != nil {
		return Result{}, &notRecordedError{v.Decision, err}
	}
	if src.AuditPath != "" {
		in.Path = src.AuditPath
	}
	in.ArchivePath, in.ArchiveSHA256 = res.Archived.Path, res.Archived.SHA256
	if res.AuditID, err = s.Store.Add(recordCtx, in); err != nil {
		return Result{}, &notRecordedError{v.Decision, err}
	}
	s.purge(recordCtx)
	return res, nil
}

// recording says whether there is a trail: a nil *audit.Store in the
// interface is none.
func (s *Station) recording() bool {
	if st, ok := s.Store.(*audit.Store); ok {
		return st != nil
	}
	return s.Store != nil
}

// maxArchivedFile bounds the file the archive reads back from disk.
const maxArchivedFile = 256 << 20

// archive keeps a copy of the strip, and its report, when the policy
// asks for one.
func (s *Station) archive(res *Result, src Source) {
	if s.Archive == nil || !s.Archive.Keep(res.Verdict.Decision) {
		return
	}
	a := &res.Analysis
	data := src.Data
	if data == nil {
		var err error
		if data, err = readRegular(a.Source); err != nil {
			res.ArchiveErr = fmt.Errorf("not archived: %v", err)
			return
		}
	}
	var rep image.Image
	if a.Decoded.Image != nil {
		rep = report.Render(a.Decoded.Image, a.Patches, res.Verdict, report.Meta{FileName: a.Source, InspectedAt: time.Now(), Model: a.Model})
	}
	c, err := s.Archive.Save(time.Now(), a.Source, data, rep)
	if err != nil {
		res.ArchiveErr = fmt.Errorf("not archived: %v", err)
		return
	}
	res.Archived = c
}

// readRegular reads a regular file of bounded size.
func readRegular(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxArchivedFile {
		return nil, fmt.Errorf("%s is not a regular file of at most %d MiB", path, maxArchivedFile>>20)
	}
	return io.ReadAll(f)
}

// purge enforces the archive's retention and quota and records each file
// removed.
func (s *Station) purge(ctx context.Context) {
	if s.Archive == nil || !s.recording() {
		return
	}
	purged, err := s.Archive.Purge(time.Now())
	if err != nil {
		return
	}
	for _, p := range purged {
		s.Store.AddPurge(ctx, p.Path, p.Bytes, p.Reason)
	}
}

// ErrNotRecorded matches the error of a strip that was scored but could not
// be recorded: the caller must not report it as done (scan stops, the API
// answers 500, the hot folder leaves the file to retry).
var ErrNotRecorded = errors.New("not recorded in the audit trail")

type notRecordedError struct {
	decision verdict.Decision
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
func (s *Station) Inspect(ctx context.Context, e Analyzer, name string, data []byte, t verdict.Thresholds, src Source) (Result, error) {
	a, err := e.AnalyzeBytes(ctx, name, data)
	if err != nil {
		return Result{}, err
	}
	return s.Conclude(ctx, a, t, src)
}
