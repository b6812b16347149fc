// Package netaddr holds the station's one rule for the addresses it
// listens on (serve's --addr, --opcua): which of them bind only the
// loopback interface. A command refuses any other unless told
// (--allow-remote), and says so in one line.
package netaddr

import (
	"fmt"
	"net"
	"strings"
)

// IsLoopback reports whether a listen address (host:port) binds only the
// loopback interface: a loopback IP or "localhost". An empty host binds
// every interface. Other host names count as remote: nothing is resolved.
func IsLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("address %q is not host:port: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
