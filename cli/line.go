package cli

import (
	"flag"
	"fmt"
	"os"

	"steelinspect/opcuaout"
)

// lineFlags are the line connections' options (the MQTT output, the OPC
// UA server and the station's name in both), shared by scan, watch, serve
// and the window.
type lineFlags struct {
	url, user, passwordFile, ca, station string
	opcua                                string
	// allowRemote is --allow-remote (serve's own, or the one registerOPCUA
	// adds); opcuaAddr is --opcua as host:port (PORT and :PORT are
	// loopback), once check has read it
	allowRemote   *bool
	opcuaAddr     string
	central, line string
	// sharedTrail is set by serve when --db is a PostgreSQL URL: the
	// instances record into that shared trail as --station on --line,
	// and nothing follows a local trail.
	sharedTrail bool
}

func (m *lineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.url, "mqtt", "", "publish every recorded result to this MQTT broker `URL` (tcp://host:1883, ssl://host:8883); the audit trail is its outbox, so results made while the broker is away go out in order later")
	fs.StringVar(&m.user, "mqtt-user", "", "MQTT user `name`")
	fs.StringVar(&m.passwordFile, "mqtt-password-file", "", "MQTT password, read from this `file` (never on the command line)")
	fs.StringVar(&m.ca, "mqtt-ca", "", "PEM `file` of the certificate authorities a TLS broker is checked against (default: the system's)")
	fs.StringVar(&m.station, "station", "", "station `name` in the MQTT topics steelinspect/NAME/..., on the OPC UA server and in the central database (default: the host name)")
	fs.StringVar(&m.central, "central", "", "forward the audit trail to this central PostgreSQL `URL` (postgres://user:password@host:5432/db); the trail is its outbox, so nothing waits on the network")
	fs.StringVar(&m.line, "line", "", "the production `line` this station inspects, recorded with it in the central database (history and report --central --line L)")
}

// registerOPCUA adds --opcua, for the commands that run long enough to be
// asked (watch, serve, the window), and --allow-remote unless the command
// has its own (serve: allowRemote), which then covers --opcua too.
func (m *lineFlags) registerOPCUA(fs *flag.FlagSet, allowRemote *bool) {
	fs.StringVar(&m.opcua, "opcua", "", "serve the station's results over OPC UA on this `address`: PORT or :PORT on loopback (127.0.0.1, anonymous), or HOST:PORT; off by default")
	if allowRemote == nil {
		allowRemote = fs.Bool("allow-remote", false, "allow a non-loopback --opcua: its clients then sign in with a station user's name and password (any role; see users add)")
	}
	m.allowRemote = allowRemote
}

// checkOPCUA reads --opcua and refuses a non-loopback address without
// --allow-remote (the rule serve's --addr follows).
func (m *lineFlags) checkOPCUA() error {
	if m.opcua == "" {
		return nil
	}
	addr, _, err := opcuaout.ListenAddr(m.opcua)
	if err != nil {
		return fmt.Errorf("%w: --opcua: %v", errUsage, err)
	}
	if _, err := listenRule("--opcua", addr, m.allowRemote != nil && *m.allowRemote,
		"give --allow-remote (its clients then sign in as a station user), or PORT for loopback only"); err != nil {
		return err
	}
	m.opcuaAddr = addr
	return nil
}

// on says whether MQTT output was asked for.
func (m *lineFlags) on() bool { return m.url != "" }

// check refuses MQTT options without --mqtt, and --station without a
// line connection.
func (m *lineFlags) check() error {
	if !m.on() && (m.user != "" || m.passwordFile != "" || m.ca != "") {
		return fmt.Errorf("%w: --mqtt-user, --mqtt-password-file and --mqtt-ca need --mqtt URL", errUsage)
	}
	if m.sharedTrail && m.needsTrail() {
		return fmt.Errorf("%w: --mqtt, --opcua and --central follow a station's own trail (--db FILE); with --db postgres://… the records are already in the central database", errUsage)
	}
	if m.station != "" && !m.needsTrail() && !m.sharedTrail {
		return fmt.Errorf("%w: --station names the station for --mqtt, --opcua or --central; give one", errUsage)
	}
	if m.line != "" && m.central == "" && !m.sharedTrail {
		return fmt.Errorf("%w: --line is recorded in the central database: give --central URL", errUsage)
	}
	return m.checkOPCUA()
}

// needsTrail says whether a line connection was asked for: both read the
// audit trail.
func (m *lineFlags) needsTrail() bool { return m.on() || m.opcua != "" || m.central != "" }

// stationName is --station, else the host name.
func (m *lineFlags) stationName() string {
	if m.station != "" {
		return m.station
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "station"
}
