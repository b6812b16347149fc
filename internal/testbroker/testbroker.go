// Package testbroker runs a real Mosquitto broker (Debian's mosquitto
// package, which make test installs) for tests: on a free local port,
// with a password file and persistence, so a test can stop it and start
// it again with its sessions. Tests skip, saying why, where mosquitto is
// not installed.
package testbroker

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"steelinspect/internal/testnet"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// User and Password are the one account the broker accepts.
const User, Password = "line3", "s3cret-pw"

// Broker is a running mosquitto.
type Broker struct {
	t         testing.TB
	dir, conf string
	Port      int
	cmd       *exec.Cmd
}

// Start starts a broker that stops when the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Skip("mosquitto is not installed (make test installs Debian's mosquitto package)")
	}
	b := &Broker{t: t, dir: t.TempDir(), Port: testnet.FreePort(t)}
	pw := filepath.Join(b.dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", pw, User, Password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	b.conf = filepath.Join(b.dir, "mosquitto.conf")
	// run as whoever runs the test (started as root, mosquitto would
	// otherwise switch to its own user, who cannot read the test's files)
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence true\npersistence_location %s/\nlog_dest stderr\nuser %s\n",
		b.Port, pw, b.dir, me.Username)
	if err := os.WriteFile(b.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(b.Stop)
	return b
}

// URL is the broker's address for clients.
func (b *Broker) URL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.Port) }

// Start starts the broker again after Stop, on the same port with the
// same saved sessions, and waits until it listens.
func (b *Broker) Start() {
	b.t.Helper()
	b.cmd = exec.Command("mosquitto", "-c", b.conf)
	if os.Getenv("MQTT_TEST_LOG") != "" {
		b.cmd.Stderr = os.Stderr
	}
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	testnet.WaitListening(b.t, b.Port, 10*time.Second, "mosquitto")
}

// Stop ends the broker as a service stop would (it saves its sessions)
// and waits for it.
func (b *Broker) Stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	b.cmd.Process.Signal(os.Interrupt)
	b.cmd.Wait()
	b.cmd = nil
}

// Subscriber is the line's side: a persistent session (the broker keeps
// its QoS 1 messages while it is away) on a topic filter.
type Subscriber struct {
	client mqtt.Client
	mu     sync.Mutex
	got    []mqtt.Message
}

// Subscribe connects client id to the broker and subscribes to filter
// with QoS 1; it disconnects when the test ends.
func Subscribe(t testing.TB, b *Broker, id, filter string) *Subscriber {
	t.Helper()
	s := &Subscriber{}
	opts := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetUsername(User).SetPassword(Password).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetOrderMatters(true).SetResumeSubs(true)
	opts.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.got = append(s.got, m)
		s.mu.Unlock()
	})
	s.client = mqtt.NewClient(opts)
	if tok := s.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	if tok := s.client.Subscribe(filter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { s.client.Disconnect(0) })
	return s
}

// Payloads are the payloads received on topics ending in suffix, in
// arrival order.
func (s *Subscriber) Payloads(suffix string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, m := range s.got {
		if strings.HasSuffix(m.Topic(), suffix) {
			out = append(out, m.Payload())
		}
	}
	return out
}

// Last is the newest payload received on topic exactly; nil when none.
func (s *Subscriber) Last(topic string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := len(s.got) - 1; k >= 0; k-- {
		if s.got[k].Topic() == topic {
			return s.got[k].Payload()
		}
	}
	return nil
}
