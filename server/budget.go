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
