package server

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStalledBodiesStayInTheBudget: uploads that send all but their last
// byte and stall hold, together, no more memory than the body budget
// (with a chunk of slack each). Reading them into slices that grew by
// doubling held about twice the bytes counted: 72 stalled 8 MiB uploads
// took serve to 1.21 GB against its 576 MiB budget.
func TestStalledBodiesStayInTheBudget(t *testing.T) {
	const body = 1 << 20
	cfg := Config{MaxBodyBytes: body, QueueSize: 12, MaxBatchImages: 4} // budget 16 MiB
	ts := start(t, cfg)
	budget := int64(cfg.QueueSize+cfg.MaxBatchImages) * body
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	chunk := strings.Repeat("x", 64<<10)
	conns := make([]net.Conn, 0, 24)
	for range 24 { // more than the budget holds: the late ones are refused
		c := slowUpload(t, ts.url, body, "")
		for sent := 1; sent+len(chunk) < body; sent += len(chunk) {
			if _, err := c.Write([]byte(chunk)); err != nil {
				break // refused: the budget is in use
			}
		}
		conns = append(conns, c)
	}
	waitFor(t, "the budget to fill", func() bool {
		ts.bodyBudget.mu.Lock()
		defer ts.bodyBudget.mu.Unlock()
		return ts.bodyBudget.free < body
	})
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := int64(after.HeapInuse) - int64(before.HeapInuse)
	// the budget, a piece being filled per upload, and 1 MiB for the rest
	if limit := budget + int64(len(conns))*bodyChunk + 1<<20; held > limit {
		t.Errorf("stalled bodies hold %.1f MiB of heap, above the %.1f MiB budget (+ slack %.1f MiB)", float64(held)/(1<<20), float64(budget)/(1<<20), float64(limit-budget)/(1<<20))
	}
	t.Logf("stalled bodies hold %.1f MiB of heap against a %.1f MiB budget", float64(held)/(1<<20), float64(budget)/(1<<20))
	for _, c := range conns {
		c.Close()
	}
}
