package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/mqttout"
)

// mqttFlags are the MQTT output's options, shared by scan, watch, serve
// and the window.
type mqttFlags struct {
	url, user, passwordFile, ca, station string
}

func (m *mqttFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.url, "mqtt", "", "publish every recorded result to this MQTT broker `URL` (tcp://host:1883, ssl://host:8883); the audit trail is its outbox, so results made while the broker is away go out in order later")
	fs.StringVar(&m.user, "mqtt-user", "", "MQTT user `name`")
	fs.StringVar(&m.passwordFile, "mqtt-password-file", "", "MQTT password, read from this `file` (never on the command line)")
	fs.StringVar(&m.ca, "mqtt-ca", "", "PEM `file` of the certificate authorities a TLS broker is checked against (default: the system's)")
	fs.StringVar(&m.station, "station", "", "station `name` in the MQTT topics steelinspect/NAME/... (default: the host name)")
}

// on says whether MQTT output was asked for.
func (m *mqttFlags) on() bool { return m.url != "" }

// check refuses MQTT options without --mqtt.
func (m *mqttFlags) check() error {
	if !m.on() && (m.user != "" || m.passwordFile != "" || m.ca != "" || m.station != "") {
		return fmt.Errorf("%w: --mqtt-user, --mqtt-password-file, --mqtt-ca and --station need --mqtt URL", errUsage)
	}
	return nil
}

// start runs a publisher of store's trail in the background; stop ends it
// (the station says offline). Without --mqtt both do nothing.
func (m *mqttFlags) start(store *audit.Store, state func() mqttout.State, env Env) (*mqttout.Publisher, func(), error) {
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
