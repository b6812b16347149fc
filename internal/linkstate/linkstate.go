// Package linkstate sums up a station's line connections (its MQTT
// output and its central forwarding) in one line for a status bar, for
// the command line's connections and the window's own alike.
package linkstate

import (
	"strings"

	"steelinspect/central"
	"steelinspect/mqttout"
)

// Of is the state of pub and fwd (either may be nil) in one line, and
// whether both are up.
func Of(pub *mqttout.Publisher, fwd *central.Forwarder) (string, bool) {
	var parts []string
	up := true
	if pub != nil {
		parts = append(parts, pub.Status())
		up = up && pub.Connected()
	}
	if fwd != nil {
		s, ok := fwd.Status()
		parts = append(parts, s)
		up = up && ok
	}
	return strings.Join(parts, " · "), up
}
