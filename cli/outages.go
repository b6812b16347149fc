package cli

import (
	"fmt"
	"io"
	"time"

	"steelinspect/station"
)

// linkCheckEvery is how often a long-running command looks at its line
// connections to log an outage or a recovery.
const linkCheckEvery = time.Second

// logOutages logs to w, in one line each, every time the line
// connections (the MQTT output, the central forwarding) go down or come
// back, as status tells it, looking every so often; stop ends the
// watching. Records made during an
// outage wait in the audit trail and go out once the link is back.
func logOutages(status func() (string, bool), w io.Writer, prefix string, every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		wasUp := true
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			text, up := status()
			switch {
			case wasUp && !up:
				fmt.Fprintf(w, "%s: line connection down: %s (records wait in the audit trail)\n", prefix, text)
			case !wasUp && up:
				fmt.Fprintf(w, "%s: line connection back: %s\n", prefix, text)
			}
			wasUp = up
		}
	}()
	return func() { close(done); <-finished }
}

// logLineOutages logs the outages of st's line connections started
// (MQTT, central), if any; stop ends it.
func logLineOutages(st *station.Station, w io.Writer, prefix string) (stop func()) {
	if !st.HasLinks() {
		return func() {}
	}
	return logOutages(st.LinkStatus, w, prefix, linkCheckEvery)
}
