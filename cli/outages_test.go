package cli

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestOutagesAreLoggedOnce: watch says in one line when a line connection
// goes down and when it comes back, once each, not at every look (before,
// it printed nothing through an MQTT or PostgreSQL outage).
func TestOutagesAreLoggedOnce(t *testing.T) {
	var mu sync.Mutex
	up, text := true, "MQTT connected"
	set := func(u bool, s string) { mu.Lock(); up, text = u, s; mu.Unlock() }
	status := func() (string, bool) { mu.Lock(); defer mu.Unlock(); return text, up }
	var out lockedBuffer
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q logged: %q", want, out.String())
			}
		}
	}
	stop := logOutages(status, &out, "steelinspect watch", 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond) // several looks while up: nothing to say
	set(false, "MQTT reconnecting: connection refused, 3 waiting")
	waitFor("down")
	time.Sleep(30 * time.Millisecond) // several looks while down: said once
	set(true, "MQTT connected")
	waitFor("back")
	time.Sleep(30 * time.Millisecond)
	stop()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "steelinspect watch: line connection down: MQTT reconnecting: connection refused") ||
		!strings.Contains(lines[1], "line connection back: MQTT connected") {
		t.Errorf("want one line down and one line back, got %q", out.String())
	}
}
