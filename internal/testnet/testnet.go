// Package testnet holds what tests that start real servers (Mosquitto,
// PostgreSQL, OPC UA, the application itself) share: a free local port,
// and waiting until a server listens on one.
package testnet

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// FreePort is a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitListening waits up to within for a server to accept connections on
// 127.0.0.1:port, and fails the test naming what did not start.
func WaitListening(t testing.TB, port int, within time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not start listening", what)
}
