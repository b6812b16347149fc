// Package mqttout publishes the station's results to an MQTT broker, for
// the line's PLC and MES: each inspection as it is recorded, each
// operator decision, and a retained station state (online or offline,
// model, thresholds).
//
// The audit trail is the outbox. The publisher reads the trail's hash
// chain (audit.Store.ChainAfter) in the order it was written, publishes
// each entry with QoS 1, and moves its delivery mark (audit.Store
// SetDelivered) only once the broker has acknowledged it. Results made
// while the broker is unreachable, or while no publisher runs at all,
// wait in the trail and go out in order after it reconnects; a crash
// between the broker's acknowledgement and the mark sends that one
// message again, which QoS 1 allows. Nothing is kept only in memory.
//
// Topics, under steelinspect/<station>/:
//   - result: one JSON object per inspection: the audit record's fields
//     (record id, time, file, scores, model, thresholds, automatic and
//     final decision, why it went to review), the station and its chain
//     entry;
//   - decision: one per operator decision or undo, with the inspection's
//     final decision after it;
//   - state: retained; "online" with the model and thresholds while the
//     publisher is connected, "offline" (the broker's last will) after.
package mqttout

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// Config is where and as whom to publish.
type Config struct {
	// URL is the broker: tcp://host:1883, or ssl://host:8883 (also
	// tls:// and mqtts://) for TLS.
	URL string
	// Username and Password, when the broker asks for them.
	Username, Password string
	// CAFile is a PEM file of the certificate authorities to trust for
	// TLS; empty: the system's.
	CAFile string
	// Station names the station in the topics; empty: the host name.
	Station string
}

// State is what the retained state message says of the station.
type State struct {
	Model      verdict.ModelIdentity `json:"model"`
	Thresholds verdict.Thresholds    `json:"thresholds"`
}

// Publisher follows the audit trail and publishes it. Run it in its own
// goroutine; Status says how it is doing.
type Publisher struct {
	cfg    Config
	broker string // the URL as paho takes it
	tls    *tls.Config
	store  *audit.Store
	state  func() State
	sink   string
	topic  string // steelinspect/<station>/

	mu        sync.Mutex
	status    string
	connected bool
}

// Topic prefix and the longest a station name may be.
const (
	topicRoot     = "steelinspect/"
	maxStationLen = 64
)

// New checks cfg and makes a publisher of store's trail. state gives the
// model and thresholds for the state message; it is called off the UI
// goroutine and must be safe for that.
func New(cfg Config, store *audit.Store, state func() State) (*Publisher, error) {
	if store == nil {
		return nil, errors.New("mqtt: publishing needs the audit trail (it is the outbox)")
	}
	broker, tlsOn, err := brokerURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Station == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("mqtt: no station name and no host name: %v", err)
		}
		cfg.Station = host
	}
	if err := checkStation(cfg.Station); err != nil {
		return nil, err
	}
	p := &Publisher{cfg: cfg, broker: broker, store: store, state: state,
		sink: "mqtt " + broker + " " + cfg.Station, topic: topicRoot + cfg.Station + "/", status: "not connected yet"}
	if tlsOn {
		if p.tls, err = tlsConfig(cfg.CAFile); err != nil {
			return nil, err
		}
	} else if cfg.CAFile != "" {
		return nil, fmt.Errorf("mqtt: --mqtt-ca is for TLS brokers (ssl://, tls:// or mqtts://), not %s", cfg.URL)
	}
	return p, nil
}

// brokerURL reads the broker's URL: paho's form, and whether it is TLS.
func brokerURL(raw string) (string, bool, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false, fmt.Errorf("mqtt: %q is not a broker URL (tcp://host:1883 or ssl://host:8883)", raw)
	}
	if u.Port() == "" {
		return "", false, fmt.Errorf("mqtt: %q has no port (1883 plain, 8883 TLS)", raw)
	}
	switch u.Scheme {
	case "tcp", "mqtt":
		return "tcp://" + u.Host, false, nil
	case "ssl", "tls", "mqtts":
		return "ssl://" + u.Host, true, nil
	}
	return "", false, fmt.Errorf("mqtt: %q: scheme %q is not tcp, ssl, tls or mqtts", raw, u.Scheme)
}

func checkStation(name string) error {
	if len(name) > maxStationLen || strings.ContainsAny(name, "/+#\x00") || strings.TrimSpace(name) != name || name == "" {
		return fmt.Errorf("mqtt: station name %q must be 1 to %d characters without /, +, # or surrounding spaces", name, maxStationLen)
	}
	return nil
}

func tlsConfig(caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("mqtt: CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mqtt: CA file %s holds no PEM certificate", caFile)
	}
	c.RootCAs = pool
	return c, nil
}

// Station is the name in the topics.
func (p *Publisher) Station() string { return p.cfg.Station }

// Topic is the full topic of one kind of message: result, decision or
// state.
func (p *Publisher) Topic(kind string) string { return p.topic + kind }

// Status is the publisher's state in one line, for logs and the window.
func (p *Publisher) Status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Connected says whether the publisher holds a session with the broker.
func (p *Publisher) Connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.connected
}

func (p *Publisher) setStatus(connected bool, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = fmt.Sprintf(format, args...)
	p.connected = connected
}

// Timing of the publisher.
const (
	pollEvery   = time.Second      // how often the trail is read when nothing wakes it
	ackWait     = 10 * time.Second // how long a message waits for the broker's acknowledgement
	connectWait = 10 * time.Second
	maxBackoff  = 30 * time.Second
	batchSize   = 200
)

// Run connects, publishes the trail from where this sink last got to,
// and follows it until ctx is done; then it says "offline" and
// disconnects. An unreachable or refusing broker is retried with growing
// pauses, each failure in Status; Run returns only when ctx is done.
func (p *Publisher) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		c, err := p.connect()
		if err != nil {
			p.setStatus(false, "MQTT %s: %v; retrying in %s", p.broker, err, backoff)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = time.Second
		p.setStatus(true, "MQTT %s: connected as station %s", p.broker, p.cfg.Station)
		err = p.follow(ctx, c)
		if ctx.Err() != nil {
			p.goOffline(c)
			break
		}
		c.Disconnect(0)
		p.setStatus(false, "MQTT %s: %v; reconnecting", p.broker, err)
		if !sleep(ctx, backoff) {
			break
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// connect opens a session: the last will says offline, the first message
// online.
func (p *Publisher) connect() (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().AddBroker(p.broker).
		SetClientID(clientID(p.cfg.Station)).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetConnectTimeout(connectWait).
		SetWriteTimeout(ackWait).
		SetKeepAlive(30 * time.Second)
	if p.cfg.Username != "" {
		opts.SetUsername(p.cfg.Username)
		opts.SetPassword(p.cfg.Password)
	}
	if p.tls != nil {
		opts.SetTLSConfig(p.tls)
	}
	offline, _ := p.stateMessage("offline")
	opts.SetBinaryWill(p.Topic("state"), offline, 1, true)
	c := mqtt.NewClient(opts)
	t := c.Connect()
	if !t.WaitTimeout(connectWait) {
		c.Disconnect(0)
		return nil, errors.New("no answer from the broker")
	}
	if err := t.Error(); err != nil {
		return nil, explain(err)
	}
	if err := p.publish(c, "state", true, "online"); err != nil {
		c.Disconnect(0)
		return nil, err
	}
	return c, nil
}

// clientID is the station's MQTT client id: one per station and process,
// so two stations never take over each other's session.
func clientID(station string) string {
	id := fmt.Sprintf("steelinspect-%s-%d", station, os.Getpid())
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

// explain turns a refused connection into what to check.
func explain(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not Authorized"), strings.Contains(msg, "bad user name or password"):
		return fmt.Errorf("the broker refused the user name or password (%v)", err)
	case strings.Contains(msg, "connection refused"):
		return fmt.Errorf("nothing listens there (%v)", err)
	}
	return err
}

// follow publishes the trail after the delivery mark, then waits for more,
// until ctx is done or the broker stops answering.
func (p *Publisher) follow(ctx context.Context, c mqtt.Client) error {
	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	for {
		done, err := p.sendPending(ctx, c)
		if err != nil {
			return err
		}
		if done {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-p.store.Changes():
			case <-ticker.C:
			}
		}
	}
}

// sendPending publishes up to one batch of undelivered entries; done
// says the trail has no more.
func (p *Publisher) sendPending(ctx context.Context, c mqtt.Client) (bool, error) {
	mark, err := p.store.Delivered(ctx, p.sink)
	if err != nil {
		return false, err
	}
	entries, err := p.store.ChainAfter(ctx, mark, batchSize)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err := p.sendEntry(ctx, c, e); err != nil {
			return false, err
		}
		if err := p.store.SetDelivered(ctx, p.sink, e.Seq); err != nil {
			return false, err
		}
	}
	if len(entries) > 0 {
		p.setStatus(true, "MQTT %s: station %s, delivered up to trail entry %d", p.broker, p.cfg.Station, entries[len(entries)-1].Seq)
	}
	return len(entries) < batchSize, nil
}

// Result is the message published for an inspection.
type Result struct {
	Station string `json:"station"`
	audit.Inspection
	FinalDecision verdict.Decision `json:"final_decision"`
}

// Decision is the message published for an operator decision or undo.
type Decision struct {
	Station string `json:"station"`
	audit.DecisionEvent
	Path string `json:"path"`
	// FinalDecision is the inspection's final decision once this one
	// applies (the automatic one again after an undo).
	FinalDecision verdict.Decision `json:"final_decision"`
}

func (p *Publisher) sendEntry(ctx context.Context, c mqtt.Client, e audit.ChainEntry) error {
	switch e.Kind {
	case "inspection":
		rows, err := p.store.History(ctx, audit.Query{ID: e.RowID})
		if err != nil || len(rows) != 1 {
			return fmt.Errorf("trail entry %d: inspection %d unreadable: %v", e.Seq, e.RowID, err)
		}
		return p.publish(c, "result", false, Result{p.cfg.Station, rows[0], rows[0].FinalDecision()})
	case "decision":
		d, err := p.store.Decision(ctx, e.RowID)
		if err != nil {
			return err
		}
		rows, err := p.store.History(ctx, audit.Query{ID: d.InspectionID})
		if err != nil || len(rows) != 1 {
			return fmt.Errorf("trail entry %d: inspection %d unreadable: %v", e.Seq, d.InspectionID, err)
		}
		final := rows[0].AutoDecision // after an undo, the automatic decision again
		if d.Kind != "undo" {
			final = d.Decision.Or(final)
		}
		return p.publish(c, "decision", false, Decision{p.cfg.Station, d, rows[0].Path, final})
	case "setting":
		// thresholds or model changed: the retained state says so
		return p.publish(c, "state", true, "online")
	}
	return nil
}

// stateMessage is the retained state: online or offline, with the model
// and thresholds.
func (p *Publisher) stateMessage(state string) ([]byte, error) {
	msg := struct {
		Station    string                 `json:"station"`
		State      string                 `json:"state"`
		Time       time.Time              `json:"time"`
		Model      *verdict.ModelIdentity `json:"model,omitempty"`
		Thresholds *verdict.Thresholds    `json:"thresholds,omitempty"`
	}{Station: p.cfg.Station, State: state, Time: time.Now().UTC()}
	if p.state != nil {
		s := p.state()
		msg.Model, msg.Thresholds = &s.Model, &s.Thresholds
	}
	return json.Marshal(msg)
}

// publish sends one message with QoS 1 and waits for the broker's
// acknowledgement. For "state", payload is the state word.
func (p *Publisher) publish(c mqtt.Client, kind string, retained bool, payload any) error {
	var body []byte
	var err error
	if word, ok := payload.(string); ok && kind == "state" {
		body, err = p.stateMessage(word)
	} else {
		body, err = json.Marshal(payload)
	}
	if err != nil {
		return err
	}
	t := c.Publish(p.Topic(kind), 1, retained, body)
	if !t.WaitTimeout(ackWait) {
		return fmt.Errorf("the broker did not acknowledge a %s message within %s", kind, ackWait)
	}
	return t.Error()
}

// goOffline says offline (retained) and disconnects cleanly.
func (p *Publisher) goOffline(c mqtt.Client) {
	_ = p.publish(c, "state", true, "offline")
	c.Disconnect(250)
	p.setStatus(false, "MQTT %s: station %s offline", p.broker, p.cfg.Station)
}

// Drain waits until every entry the trail held when it was called has
// been delivered, or ctx is done: then it says how many wait and why.
func (p *Publisher) Drain(ctx context.Context) error {
	n, err := p.store.WaitDelivered(ctx, p.sink)
	if err != nil || n == 0 {
		return err
	}
	return fmt.Errorf("%d trail entries not yet delivered to MQTT (they stay queued in the audit trail and go out with the next run): %s", n, p.Status())
}
