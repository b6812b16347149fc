package station_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"steelinspect/mqttout"
	"steelinspect/station"
	"steelinspect/verdict"
)

// fakeLink is a Linked output whose Run waits for its end.
type fakeLink struct {
	mu      sync.Mutex
	running bool
	ended   chan struct{}
}

func (f *fakeLink) Run(ctx context.Context) error {
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	<-ctx.Done()
	close(f.ended)
	return nil
}
func (f *fakeLink) Status() (string, bool)          { return "fake link up", true }
func (f *fakeLink) Drain(ctx context.Context) error { return nil }

// TestSetLinksReplacesTheOutputsAddedAtRunTime: the window's line
// connection is started through its station: an output added while the
// station runs shows in LinkStatus, SetLinks replaces it (stopping it),
// a setting that does not work leaves the running ones as they were, an
// empty Links stops them, and StartLine's stop ends them all.
func TestSetLinksReplacesTheOutputsAddedAtRunTime(t *testing.T) {
	_, store := fixture(t)
	st := station.FromParts(store, nil, nil)
	st.Fix(verdict.DefaultThresholds)
	fake := &fakeLink{ended: make(chan struct{})}
	if err := st.AddOutput("fake", fake); err != nil {
		t.Fatal(err)
	}
	if s, up := st.LinkStatus(); !st.HasLinks() || s != "fake link up" || !up {
		t.Fatalf("link status %q %v", s, up)
	}
	if err := st.SetLinks(station.Links{MQTT: &mqttout.Config{URL: "tcp://127.0.0.1:1", Station: "line3"}}); err != nil {
		t.Fatal(err)
	}
	<-fake.ended // stopped, and waited for
	if got := st.Outputs(); !reflect.DeepEqual(got, []string{"mqtt"}) {
		t.Fatalf("outputs %v, want the MQTT output alone", got)
	}
	if s, up := st.LinkStatus(); up || s == "" {
		t.Errorf("an MQTT output with no broker: %q up %v", s, up)
	}
	err := st.SetLinks(station.Links{MQTT: &mqttout.Config{URL: "gopher://broker", Station: "line3"}})
	if !errors.Is(err, station.ErrConfig) {
		t.Errorf("a broker URL that cannot work: %v", err)
	}
	if got := st.Outputs(); !reflect.DeepEqual(got, []string{"mqtt"}) {
		t.Fatalf("after a bad setting the outputs are %v, want the MQTT output running", got)
	}
	if err := st.SetLinks(station.Links{}); err != nil || st.HasLinks() || len(st.Outputs()) != 0 {
		t.Fatalf("no links: %v, outputs %v", err, st.Outputs())
	}
	st.SetLinks(station.Links{MQTT: &mqttout.Config{URL: "tcp://127.0.0.1:1", Station: "line3"}})
	stop, err := st.StartLine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if len(st.Outputs()) != 0 {
		t.Errorf("StartLine's stop left %v running", st.Outputs())
	}
}

// TestSetLinksNeedsATrail: the line outputs send the trail, their outbox.
func TestSetLinksNeedsATrail(t *testing.T) {
	st := station.FromParts(nil, nil, nil)
	st.Fix(verdict.DefaultThresholds)
	if err := st.SetLinks(station.Links{MQTT: &mqttout.Config{URL: "tcp://127.0.0.1:1", Station: "line3"}}); err == nil || st.HasLinks() {
		t.Errorf("links without a trail: %v, outputs %v", err, st.Outputs())
	}
}

// TestFixWhileRunning: the window fixes its pair on its UI goroutine while
// its worker and Watch folder read it (go test -race); Own says the pair,
// and a fixed pair is not followed.
func TestFixWhileRunning(t *testing.T) {
	_, store := fixture(t)
	st := station.FromParts(store, nil, nil)
	if _, fixed := st.Own(); fixed || st.Follow() == nil {
		t.Fatal("a station of a trail follows it until a pair is fixed")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := 0; k < 1000; k++ {
			st.Own()
			st.Follow()
		}
	}()
	for k := 0; k < 1000; k++ {
		st.Fix(verdict.Thresholds{Pass: 0.3, Reject: 0.7})
	}
	<-done
	if got, fixed := st.Own(); !fixed || got != (verdict.Thresholds{Pass: 0.3, Reject: 0.7}) || st.Follow() != nil {
		t.Errorf("own %+v fixed %v", got, fixed)
	}
	in, err := st.InForce(context.Background())
	if err != nil || in.Recorded || in.Thresholds != verdict.DefaultThresholds {
		t.Errorf("a station of parts without a model: in force %+v, %v", in, err)
	}
}

// TestStateSaysWhatWasSet: State is what SetState set last.
func TestStateSaysWhatWasSet(t *testing.T) {
	st := station.FromParts(nil, nil, nil)
	if _, _, set := st.State(); set {
		t.Fatal("state set before SetState")
	}
	m := verdict.ModelIdentity{Name: "tiny"}
	st.SetState(m, verdict.Thresholds{Pass: 0.4, Reject: 0.6})
	if got, th, set := st.State(); !set || got != m || th.Reject != 0.6 {
		t.Errorf("state %+v %+v %v", got, th, set)
	}
}
