package server

import (
	"errors"
	"io"
	"sync"
)

// errBodyBudget is a body read refused because the bytes of all bodies in
// memory have reached the server's budget.
var errBodyBudget = errors.New("the memory for request bodies is in use")

// byteBudget counts bytes against a fixed total.
type byteBudget struct {
	mu   sync.Mutex
	free int64
}

func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.free {
		return false
	}
	b.free -= n
	return true
}

func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
}

// budgetedBody is a request body whose bytes are counted against the
// budget as they arrive and given back by release, when the request is
// done with them.
type budgetedBody struct {
	r      io.ReadCloser
	budget *byteBudget
	held   int64
}

func (b *budgetedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if !b.budget.take(int64(n)) {
			return 0, errBodyBudget
		}
		b.held += int64(n)
	}
	return n, err
}

func (b *budgetedBody) Close() error { return b.r.Close() }

func (b *budgetedBody) release() {
	b.budget.give(b.held)
	b.held = 0
}

// bodyChunk is the size of the pieces a body is read in.
const bodyChunk = 64 << 10

// readBody reads r to its end in fixed pieces and joins them once at the
// end, so that what a body holds while it arrives is the bytes it has
// sent (what the budget counts) and at most one piece more: a slice grown
// by doubling holds up to twice its bytes, and its discarded copies wait
// for the collector.
func readBody(r io.Reader) ([]byte, error) {
	var pieces [][]byte
	total := 0
	for {
		piece := make([]byte, bodyChunk)
		n, err := io.ReadFull(r, piece)
		if n > 0 {
			pieces = append(pieces, piece[:n])
			total += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, total)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return out, nil
}
