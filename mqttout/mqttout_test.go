package mqttout

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/internal/testbroker"
	"steelinspect/verdict"
)

// results are the result messages' record ids, in arrival order.
func results(t *testing.T, s *testbroker.Subscriber) []int64 {
	var ids []int64
	for _, p := range s.Payloads("/result") {
		var r Result
		if err := json.Unmarshal(p, &r); err != nil {
			t.Fatalf("result %s: %v", p, err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func openStore(t *testing.T) *audit.Store {
	s, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t *testing.T, s *audit.Store, name string, decision verdict.Decision) int64 {
	t.Helper()
	id, err := s.Add(context.Background(), audit.Inspection{Source: "watch", Path: name, SHA256: strings.Repeat("a", 64),
		Width: 1600, Height: 256, Bytes: 1000, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: strings.Repeat("b", 64),
		PassThreshold: 0.4, RejectThreshold: 0.65, Confidence: 0.9, MeanProbability: 0.5, AutoDecision: decision})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testState = func() State {
	return State{Model: verdict.ModelIdentity{Name: "steel", Version: "4.0.0", SHA256: "bb"}, Thresholds: verdict.Thresholds{Pass: 0.4, Reject: 0.65}}
}

// unique keeps each id's first arrival: QoS 1 may deliver one twice.
func unique(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func run(t *testing.T, p *Publisher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// TestPublishResultsAndState: results (with the audit record's fields),
// an operator decision and the retained state reach a subscriber, in
// order; stopping says offline.
func TestPublishResultsAndState(t *testing.T) {
	b := testbroker.Start(t)
	store := openStore(t)
	sub := testbroker.Subscribe(t, b, "plc-normal", "steelinspect/#")
	// two results wait in the trail before the publisher runs
	a := record(t, store, "a.jpg", verdict.Review)
	record(t, store, "b.jpg", verdict.Reject)
	p, err := New(Config{URL: b.URL(), Username: testbroker.User, Password: testbroker.Password, Station: "line3"}, store, testState)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	record(t, store, "c.jpg", verdict.Pass)
	if err := store.Review(context.Background(), a, verdict.Reject, "ana", ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 results and a decision", func() bool {
		return len(results(t, sub)) >= 3 && sub.Last("steelinspect/line3/decision") != nil
	})
	if got := unique(results(t, sub)); fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("results %v, want [1 2 3]", got)
	}
	var r Result
	json.Unmarshal(sub.Payloads("/result")[0], &r)
	if r.Station != "line3" || r.Path != "a.jpg" || r.AutoDecision != verdict.Review || r.ModelVersion != "4.0.0" ||
		r.PassThreshold != 0.4 || r.ChainHash == "" || r.InspectedAt.IsZero() {
		t.Errorf("result message %+v", r)
	}
	var d Decision
	json.Unmarshal(sub.Last("steelinspect/line3/decision"), &d)
	if d.InspectionID != a || !d.Decision.Is(verdict.Reject) || d.FinalDecision != verdict.Reject || d.Operator != "ana" || d.Path != "a.jpg" {
		t.Errorf("decision message %+v", d)
	}
	var st struct {
		State string                `json:"state"`
		Model verdict.ModelIdentity `json:"model"`
	}
	json.Unmarshal(sub.Last("steelinspect/line3/state"), &st)
	if st.State != "online" || st.Model.Version != "4.0.0" {
		t.Errorf("state %s", sub.Last("steelinspect/line3/state"))
	}
	stop()
	// a newcomer gets the retained state: offline
	late := testbroker.Subscribe(t, b, "plc-late", "steelinspect/#")
	waitFor(t, "the retained state", func() bool { return late.Last("steelinspect/line3/state") != nil })
	json.Unmarshal(late.Last("steelinspect/line3/state"), &st)
	if st.State != "offline" {
		t.Errorf("retained state after stop %s", late.Last("steelinspect/line3/state"))
	}
}

// TestBrokerStoppedMidBatch: results made while the broker is down wait
// in the trail and go out in order once it is back; none is lost.
func TestBrokerStoppedMidBatch(t *testing.T) {
	b := testbroker.Start(t)
	store := openStore(t)
	sub := testbroker.Subscribe(t, b, "plc-restart", "steelinspect/#")
	p, err := New(Config{URL: b.URL(), Username: testbroker.User, Password: testbroker.Password, Station: "line3"}, store, testState)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	for k := range 5 {
		record(t, store, fmt.Sprintf("%d.jpg", k), verdict.Pass)
	}
	waitFor(t, "the first 5 results", func() bool { return len(unique(results(t, sub))) >= 5 })
	b.Stop()
	for k := 5; k < 10; k++ {
		record(t, store, fmt.Sprintf("%d.jpg", k), verdict.Reject)
	}
	waitFor(t, "the publisher to notice", func() bool {
		return strings.Contains(p.Status(), "retrying") || strings.Contains(p.Status(), "reconnecting")
	})
	b.Start()
	waitFor(t, "all 10 results", func() bool { return len(unique(results(t, sub))) >= 10 })
	if got := unique(results(t, sub)); fmt.Sprint(got) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Errorf("results after the restart %v", got)
	}
	if n := len(results(t, sub)); n > 12 {
		t.Errorf("%d result messages for 10 results", n)
	}
}

// TestWrongPassword: a refused login is said in one line, nothing is
// marked delivered, and Drain says what waits.
func TestWrongPassword(t *testing.T) {
	b := testbroker.Start(t)
	store := openStore(t)
	record(t, store, "a.jpg", verdict.Reject)
	p, err := New(Config{URL: b.URL(), Username: testbroker.User, Password: "wrong", Station: "line3"}, store, testState)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	waitFor(t, "the refusal", func() bool { return strings.Contains(p.Status(), "refused the user name or password") })
	if strings.Contains(p.Status(), "\n") {
		t.Errorf("status is not one line: %q", p.Status())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.Drain(ctx); err == nil || !strings.Contains(err.Error(), "1 trail entries not yet delivered") {
		t.Errorf("drain: %v", err)
	}
	if mark, _ := store.Delivered(context.Background(), p.sink); mark != 0 {
		t.Errorf("delivered up to %d with a refused login", mark)
	}
}

// TestConfigChecks: bad URLs, station names and CA options are refused
// with a reason before anything connects.
func TestConfigChecks(t *testing.T) {
	store := openStore(t)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "127.0.0.1:1883"}, "not a broker URL"},
		{Config{URL: "tcp://127.0.0.1"}, "has no port"},
		{Config{URL: "http://127.0.0.1:80"}, "is not tcp, ssl"},
		{Config{URL: "tcp://127.0.0.1:1883", Station: "a/b"}, "station name"},
		{Config{URL: "tcp://127.0.0.1:1883", Station: "x", CAFile: "ca.pem"}, "is for TLS brokers"},
		{Config{URL: "ssl://127.0.0.1:8883", Station: "x", CAFile: "/nonexistent.pem"}, "CA file"},
	} {
		if _, err := New(c.cfg, store, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := New(Config{URL: "tcp://127.0.0.1:1883"}, nil, nil); err == nil {
		t.Error("a publisher without an audit trail")
	}
	p, err := New(Config{URL: "mqtts://broker.plant:8883", Station: "line 3"}, store, nil)
	if err != nil || p.broker != "ssl://broker.plant:8883" || p.Topic("result") != "steelinspect/line 3/result" {
		t.Errorf("TLS config: %v %+v", err, p)
	}
}
