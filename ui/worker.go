package ui

import (
	"context"
	"image"
	"sync"

	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// worker owns the model and runs jobs on it one at a time, in order, so
// inference never overlaps a model switch and results come back in the
// order the strips were opened. Every screen that scores strips (the
// inspector, batch, hot folder, calibrate) goes through it.
type worker struct {
	// model is touched only by jobs, on the worker's goroutine.
	model Analyzer
	jobs  chan func()
	// ctx is the window's lifetime; a job that finds it cancelled returns.
	ctx context.Context
	// st is the window's station: each strip is concluded through it,
	// decided with the window's pair, which is fixed on it (Fix) and read
	// from it off the UI goroutine (the worker, the hot folder, calibrate).
	st        *station.Station
	done      sync.WaitGroup
	closeOnce sync.Once
}

// newWorker starts the worker's goroutine, with t the pair strips are
// decided with. It owns model from then on.
func newWorker(ctx context.Context, model Analyzer, st *station.Station, t verdict.Thresholds) *worker {
	st.Fix(t)
	w := &worker{model: model, jobs: make(chan func(), 256), ctx: ctx, st: st}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		for job := range w.jobs {
			job()
		}
	}()
	return w
}

// submit queues job; it returns false, and drops the job, once the
// window's context is cancelled.
func (w *worker) submit(job func()) bool {
	select {
	case <-w.ctx.Done():
		return false
	default:
		w.jobs <- job
		return true
	}
}

// stop waits for the queued jobs to finish and closes the model. Call it
// once the window's context is cancelled and nothing submits any more.
func (w *worker) stop() {
	w.closeOnce.Do(func() {
		close(w.jobs)
		w.done.Wait()
		if w.model != nil {
			w.model.Close()
		}
	})
}

// call runs f with the model on the worker and waits for it, from any
// goroutine but the worker's.
func (w *worker) call(ctx context.Context, f func(Analyzer) (inference.Analysis, error)) (inference.Analysis, error) {
	type result struct {
		a   inference.Analysis
		err error
	}
	ch := make(chan result, 1)
	job := func() {
		if ctx.Err() != nil {
			ch <- result{err: ctx.Err()}
			return
		}
		a, err := f(w.model)
		ch <- result{a, err}
	}
	select {
	case w.jobs <- job:
	case <-ctx.Done():
		return inference.Analysis{}, ctx.Err()
	}
	select {
	case r := <-ch:
		return r.a, r.err
	case <-ctx.Done():
		return inference.Analysis{}, ctx.Err()
	}
}

// swapModel replaces the model and closes the old one. It runs on the
// worker.
func (w *worker) swapModel(m Analyzer) {
	old := w.model
	w.model = m
	if old != nil {
		old.Close()
	}
}

// setThresholds makes t the thresholds strips are decided with from now
// on: the station's own pair (Fix).
func (w *worker) setThresholds(t verdict.Thresholds) { w.st.Fix(t) }

// currentThresholds are the thresholds strips are decided with, the
// station's own pair, readable off the UI goroutine.
func (w *worker) currentThresholds() verdict.Thresholds {
	t, _ := w.st.Own()
	return t
}

// analyze runs on the worker.
func (w *worker) analyze(ctx context.Context, s source) (inference.Analysis, error) {
	if s.path != "" {
		return w.model.AnalyzeFile(ctx, s.path)
	}
	return w.model.AnalyzeBytes(ctx, s.name, s.data)
}

// inspected is one strip scored (and recorded) by the worker.
type inspected struct {
	analysis *inference.Analysis // Decoded emptied
	display  image.Image         // only when the strip is to be shown
	auditID  int64
	auto     verdict.Decision
	// archiveErr says why the strip was not archived when it should
	// have been.
	archiveErr error
}

// inspect scores one strip on the worker, decides it with the thresholds
// in force and records it in the audit trail before anything shows it as
// done: the station's one inspect-and-record path. Only the strip to be
// shown keeps a display image.
func (w *worker) inspect(ctx context.Context, s source, show bool) (inspected, error) {
	a, err := w.analyze(ctx, s)
	if err != nil {
		return inspected{}, err
	}
	res := inspected{analysis: &a}
	if show {
		res.display = displayImage(a.Decoded.Image)
	}
	// The window's own context: a cancelled batch still records the strip
	// it has scored. The archive draws its report from the decoded pixels.
	out, err := w.st.Conclude(w.ctx, a, w.currentThresholds(),
		station.Source{Name: station.SourceWindow, Data: s.data})
	a.Decoded = inference.DecodedImage{}
	if err != nil {
		return inspected{}, err
	}
	res.archiveErr = out.ArchiveErr
	res.auto, res.auditID = out.Verdict.Decision, out.AuditID
	return res, nil
}

// workerAnalyzer lets the hot folder and calibrate score through the
// window's worker, which owns the model.
type workerAnalyzer struct {
	work     *worker
	manifest *inference.Manifest
}

func (w *workerAnalyzer) Manifest() *inference.Manifest { return w.manifest }

// AnalyzeBytes runs on the caller's goroutine and waits for the worker.
func (w *workerAnalyzer) AnalyzeBytes(ctx context.Context, name string, data []byte) (inference.Analysis, error) {
	return w.work.call(ctx, func(m Analyzer) (inference.Analysis, error) { return m.AnalyzeBytes(ctx, name, data) })
}

// AnalyzeFile runs on the caller's goroutine and waits for the worker.
func (w *workerAnalyzer) AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error) {
	return w.work.call(ctx, func(m Analyzer) (inference.Analysis, error) { return m.AnalyzeFile(ctx, path) })
}
