package netaddr

import "testing"

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4840": true, "127.1.2.3:80": true, "[::1]:4840": true, "localhost:4840": true, "LOCALHOST:1": true,
		":4840": false, "0.0.0.0:4840": false, "[::]:4840": false, "10.0.0.5:4840": false, "plc.example:4840": false,
	} {
		if got, err := IsLoopback(addr); err != nil || got != want {
			t.Errorf("IsLoopback(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if _, err := IsLoopback("4840"); err == nil {
		t.Error("IsLoopback(\"4840\") accepted an address without a host:port form")
	}
}
