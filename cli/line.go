package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/central"
	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/internal/linkstate"
	"steelinspect/mqttout"
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

	// what startLine started, for linkStatus
	pub *mqttout.Publisher
	fwd *central.Forwarder
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

// prepareStation checks the line and archive options together (--mqtt and
// --opcua read the audit trail, so they refuse --no-audit) and opens the
// archive (nil without --archive).
func prepareStation(mq *lineFlags, af *archiveFlags, noAudit bool) (*archive.Archive, error) {
	if err := mq.check(); err != nil {
		return nil, err
	}
	if noAudit && mq.needsTrail() {
		return nil, fmt.Errorf("%w: --mqtt, --opcua and --central read the audit trail: drop --no-audit", errUsage)
	}
	return af.open()
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

// startLine starts the line connections asked for (MQTT output, OPC UA
// server, central forwarding) over store's trail; stop ends them all.
func (m *lineFlags) startLine(store *audit.Store, state func() mqttout.State, env Env) (func(), error) {
	pub, stopMQTT, err := m.start(store, state, env)
	if err != nil {
		return nil, err
	}
	m.pub = pub
	stopOPCUA, err := m.startOPCUA(store, env)
	if err != nil {
		stopMQTT()
		return nil, err
	}
	fwd, stopCentral, err := m.startCentral(store, env)
	if err != nil {
		stopOPCUA()
		stopMQTT()
		return nil, err
	}
	m.fwd = fwd
	return func() { stopCentral(); stopOPCUA(); stopMQTT() }, nil
}

// startCentral runs the forwarder to the central database in the
// background; stop ends it. Without --central both do nothing.
func (m *lineFlags) startCentral(store *audit.Store, env Env) (*central.Forwarder, func(), error) {
	if m.central == "" {
		return nil, func() {}, nil
	}
	f, err := central.New(m.central, m.stationName(), m.line, store)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	stop := runInBackground(f.Run)
	fmt.Fprintf(env.Stderr, "steelinspect: forwarding the audit trail to the central database as station %s\n", m.stationName())
	return f, stop, nil
}

// startOPCUA runs the OPC UA server over store's trail in the background;
// stop ends it. Without --opcua both do nothing.
func (m *lineFlags) startOPCUA(store *audit.Store, env Env) (func(), error) {
	if m.opcua == "" {
		return func() {}, nil
	}
	if m.opcuaAddr == "" {
		if err := m.checkOPCUA(); err != nil {
			return nil, err
		}
	}
	s, err := opcuaout.New(opcuaout.Config{Addr: m.opcuaAddr, Station: m.stationName(), Store: store,
		AllowRemote: m.allowRemote != nil && *m.allowRemote})
	if errors.Is(err, opcuaout.ErrNoUsers) {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Listen(ctx); err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	fmt.Fprintf(env.Stderr, "steelinspect: OPC UA server on %s (namespace %s, station %s; %s)\n", s.Endpoint(), opcuaout.NamespaceURI, m.stationName(), s.Access())
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
		pw, err := files.ReadPassword(m.passwordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--mqtt-password-file: %v", err)
		}
		cfg.Password = pw
	}
	p, err := mqttout.New(cfg, store, state)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	stop := runInBackground(p.Run)
	fmt.Fprintf(env.Stderr, "steelinspect: publishing results to %s as station %s (topics %s…)\n",
		m.url, p.Station(), strings.TrimSuffix(p.Topic("result"), "result"))
	return p, stop, nil
}

// fixedState is the state of a station whose model and thresholds do not
// change while it runs (scan, watch, serve).
func fixedState(m inference.ModelIdentity, t inference.Thresholds) func() mqttout.State {
	return func() mqttout.State { return mqttout.State{Model: m, Thresholds: t} }
}

// drainLine waits up to wait for the MQTT broker and the central database
// to take everything recorded (each may be nil).
func drainLine(pub *mqttout.Publisher, fwd *central.Forwarder, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if pub != nil {
		if err := pub.Drain(ctx); err != nil {
			return fmt.Errorf("mqtt: %v", err)
		}
	}
	if fwd != nil {
		if err := fwd.Drain(ctx); err != nil {
			return fmt.Errorf("central: %v", err)
		}
	}
	return nil
}

// startWindowLine starts the window's line connections (OPC UA, central
// forwarding, MQTT) and connects them to the window: the model and
// thresholds in force for the MQTT state, their status for its status bar.
func (m *lineFlags) startWindowLine(store *audit.Store, man *inference.Manifest, gui *GUIOptions, env Env) (func(), error) {
	var settings atomic.Pointer[mqttout.State]
	settings.Store(&mqttout.State{Model: man.Identity(), Thresholds: man.DefaultThresholds})
	stopAll, err := m.startLine(store, func() mqttout.State { return *settings.Load() }, env)
	if err != nil {
		return nil, err
	}
	gui.OnSettings = func(model inference.ModelIdentity, t inference.Thresholds) {
		settings.Store(&mqttout.State{Model: model, Thresholds: t})
	}
	if m.on() || m.central != "" {
		gui.LinkStatus = m.linkStatus
	}
	return stopAll, nil
}

// linkStatus is the state of the MQTT output and the central forwarding
// started, in one line, and whether all are up.
func (m *lineFlags) linkStatus() (string, bool) { return linkstate.Of(m.pub, m.fwd) }

// runInBackground runs run until stop is called; stop cancels it and
// waits for it to return.
func runInBackground(run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() { cancel(); <-done }
}
