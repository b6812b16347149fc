package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/mqttout"
	"steelinspect/opcuaout"
)

// lineFlags are the line connections' options (the MQTT output, the OPC
// UA server and the station's name in both), shared by scan, watch, serve
// and the window.
type lineFlags struct {
	url, user, passwordFile, ca, station string
	opcua                                string
}

func (m *lineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.url, "mqtt", "", "publish every recorded result to this MQTT broker `URL` (tcp://host:1883, ssl://host:8883); the audit trail is its outbox, so results made while the broker is away go out in order later")
	fs.StringVar(&m.user, "mqtt-user", "", "MQTT user `name`")
	fs.StringVar(&m.passwordFile, "mqtt-password-file", "", "MQTT password, read from this `file` (never on the command line)")
	fs.StringVar(&m.ca, "mqtt-ca", "", "PEM `file` of the certificate authorities a TLS broker is checked against (default: the system's)")
	fs.StringVar(&m.station, "station", "", "station `name` in the MQTT topics steelinspect/NAME/... and on the OPC UA server (default: the host name)")
}

// registerOPCUA adds --opcua, for the commands that run long enough to be
// asked (watch, serve, the window).
func (m *lineFlags) registerOPCUA(fs *flag.FlagSet) {
	fs.StringVar(&m.opcua, "opcua", "", "serve the station's results over OPC UA on this `address` (host:port, e.g. 127.0.0.1:4840; off by default)")
}

// on says whether MQTT output was asked for.
func (m *lineFlags) on() bool { return m.url != "" }

// check refuses MQTT options without --mqtt, and --station without a
// line connection.
func (m *lineFlags) check() error {
	if !m.on() && (m.user != "" || m.passwordFile != "" || m.ca != "") {
		return fmt.Errorf("%w: --mqtt-user, --mqtt-password-file and --mqtt-ca need --mqtt URL", errUsage)
	}
	if m.station != "" && !m.on() && m.opcua == "" {
		return fmt.Errorf("%w: --station names the station for --mqtt or --opcua; give one", errUsage)
	}
	return nil
}

// prepareStation checks the line and archive options together (--mqtt and
// --opcua read the audit trail, so they refuse --no-audit) and opens the
// archive (nil without --archive).
func prepareStation(mq *lineFlags, af *archiveFlags, noAudit bool) (*archive.Archive, error) {
	if err := mq.check(); err != nil {
		return nil, err
	}
	if noAudit && mq.needsTrail() {
		return nil, fmt.Errorf("%w: --mqtt and --opcua read the audit trail: drop --no-audit", errUsage)
	}
	return af.open()
}

// needsTrail says whether a line connection was asked for: both read the
// audit trail.
func (m *lineFlags) needsTrail() bool { return m.on() || m.opcua != "" }

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

// startLine starts the line connections asked for (MQTT output, OPC UA
// server) over store's trail; stop ends both.
func (m *lineFlags) startLine(store *audit.Store, state func() mqttout.State, env Env) (func(), error) {
	_, stopMQTT, err := m.start(store, state, env)
	if err != nil {
		return nil, err
	}
	stopOPCUA, err := m.startOPCUA(store, env)
	if err != nil {
		stopMQTT()
		return nil, err
	}
	return func() { stopOPCUA(); stopMQTT() }, nil
}

// startOPCUA runs the OPC UA server over store's trail in the background;
// stop ends it. Without --opcua both do nothing.
func (m *lineFlags) startOPCUA(store *audit.Store, env Env) (func(), error) {
	if m.opcua == "" {
		return func() {}, nil
	}
	s, err := opcuaout.New(m.opcua, m.stationName(), store)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Listen(ctx); err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	fmt.Fprintf(env.Stderr, "steelinspect: OPC UA server on opc.tcp://%s (namespace %s, station %s)\n", m.opcua, opcuaout.NamespaceURI, m.stationName())
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(env.Stderr, "steelinspect: %v\n", err)
		}
	}, nil
}

// start runs a publisher of store's trail in the background; stop ends it
// (the station says offline). Without --mqtt both do nothing.
func (m *lineFlags) start(store *audit.Store, state func() mqttout.State, env Env) (*mqttout.Publisher, func(), error) {
	if !m.on() {
		return nil, func() {}, nil
	}
	cfg := mqttout.Config{URL: m.url, Username: m.user, CAFile: m.ca, Station: m.station}
	if m.passwordFile != "" {
		pw, err := os.ReadFile(m.passwordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--mqtt-password-file: %v", err)
		}
		cfg.Password = strings.TrimRight(string(pw), "\r\n")
	}
	p, err := mqttout.New(cfg, store, state)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	fmt.Fprintf(env.Stderr, "steelinspect: publishing results to %s as station %s (topics %s…)\n",
		m.url, p.Station(), strings.TrimSuffix(p.Topic("result"), "result"))
	return p, func() { cancel(); <-done }, nil
}

// fixedState is the state of a station whose model and thresholds do not
// change while it runs (scan, watch, serve).
func fixedState(m inference.ModelIdentity, t inference.Thresholds) func() mqttout.State {
	return func() mqttout.State { return mqttout.State{Model: m, Thresholds: t} }
}
