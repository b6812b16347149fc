package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"steelinspect/inference"
)

var (
	errQueueFull    = errors.New("queue full")
	errShuttingDown = errors.New("shutting down")
)

// job is one image waiting for the model.
type job struct {
	ctx    context.Context
	name   string
	data   []byte
	pixels int64          // from the header, for the batch's pixel budget
	done   chan jobResult // buffered: the worker never waits for the handler
}

type jobResult struct {
	analysis inference.Analysis
	err      error
	batch    int // images scored in the same engine call
}

// submit queues one image and waits for its result, for at most as long
// as ctx allows. A full queue is refused at once (errQueueFull).
func (s *Server) submit(ctx context.Context, name string, data []byte, pixels int64) (jobResult, error) {
	j := &job{ctx: ctx, name: name, data: data, pixels: pixels, done: make(chan jobResult, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return jobResult{}, errShuttingDown
	}
	select {
	case s.queue <- j:
		s.mu.RUnlock()
	default:
		s.mu.RUnlock()
		return jobResult{}, errQueueFull
	}
	select {
	case res := <-j.done:
		return res, nil
	case <-ctx.Done():
		return jobResult{}, ctx.Err()
	}
}

// work is the single worker: it takes the next job and the jobs waiting
// behind it (up to MaxBatchImages images and MaxBatchPixels pixels) and
// scores them in one engine call, so that requests arriving together share
// model runs. It ends when the queue is closed and drained.
func (s *Server) work() {
	defer close(s.workerDone)
	var carried *job // taken from the queue but over the last batch's budget
	for {
		first := carried
		carried = nil
		if first == nil {
			var ok bool
			if first, ok = <-s.queue; !ok {
				return
			}
		}
		if s.cfg.holdWorker != nil {
			s.cfg.holdWorker()
		}
		batch := []*job{first}
		pixels := first.pixels
	collect:
		for len(batch) < s.cfg.MaxBatchImages {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break collect
				}
				if pixels+j.pixels > s.cfg.MaxBatchPixels {
					carried = j
					break collect
				}
				batch = append(batch, j)
				pixels += j.pixels
			default:
				break collect
			}
		}
		s.runBatch(batch)
	}
}

func (s *Server) runBatch(batch []*job) {
	live := make([]*job, 0, len(batch))
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err} // nobody waits any more; skip the work
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	names := make([]string, len(live))
	data := make([][]byte, len(live))
	for i, j := range live {
		names[i], data[i] = j.name, j.data
	}
	start := time.Now()
	analyses, errs, err := s.analyze(names, data)
	s.metrics.batch(len(live), time.Since(start))
	for i, j := range live {
		if err != nil {
			j.done <- jobResult{err: err, batch: len(live)}
			continue
		}
		j.done <- jobResult{analysis: analyses[i], err: errs[i], batch: len(live)}
	}
}

// analyze calls the engine, turning a panic into an error so that one bad
// batch cannot take the worker, and with it the server, down.
func (s *Server) analyze(names []string, data [][]byte) (analyses []inference.Analysis, errs []error, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panic()
			s.log.Printf("panic in the engine (batch of %d): %v\n%s", len(names), p, debug.Stack())
			err = fmt.Errorf("internal error in the engine: %v", p)
		}
	}()
	analyses, errs = s.engine.AnalyzeBatch(context.Background(), names, data)
	return analyses, errs, nil
}
