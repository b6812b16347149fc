package cli

import (
	"fmt"

	"steelinspect/internal/netaddr"
)

// listenRule is the one rule for the addresses the station listens on
// (serve's --addr, --opcua): a loopback address always; any other only
// when allowed (--allow-remote, or for serve a token file), else a usage
// error in one line that names the flag and what to give.
func listenRule(flagName, addr string, allowed bool, remedy string) (loopback bool, err error) {
	loopback, err = netaddr.IsLoopback(addr)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %v", errUsage, flagName, err)
	}
	if !loopback && !allowed {
		return false, fmt.Errorf("%w: refusing to listen on non-loopback %s (%s): %s", errUsage, addr, flagName, remedy)
	}
	return loopback, nil
}
