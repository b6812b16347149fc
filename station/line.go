package station

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"steelinspect/central"
	"steelinspect/mqttout"
	"steelinspect/opcuaout"
	"steelinspect/verdict"
)

// Output is one line output: the MQTT publisher, the OPC UA server, the
// forwarding to the central database. Each follows the audit trail, its
// outbox, and sends what is recorded from Run until ctx ends, so nothing
// the station decides waits on the network. node_exporter's collectors
// are the model: one small interface, each output behind it.
type Output interface {
	Run(ctx context.Context) error
}

// Linked is an output with a link that can be down (MQTT, central): it
// says its state in one line and whether it is up, and Drain waits until
// everything recorded has gone out.
type Linked interface {
	Output
	Status() (string, bool)
	Drain(ctx context.Context) error
}

// listener is an output that takes its address before it runs (OPC UA),
// so that a port in use is an error of the start.
type listener interface {
	Listen(ctx context.Context) error
}

// mqttOutput is the MQTT publisher as an Output.
type mqttOutput struct{ *mqttout.Publisher }

func (m mqttOutput) Status() (string, bool) { return m.Publisher.Status(), m.Connected() }

// namedOutput is a running output: its name in errors, and its stop,
// which waits for it; set: started by SetLinks.
type namedOutput struct {
	name string
	out  Output
	stop func()
	set  bool
}

// stateFunc is the model and thresholds the line outputs say the station
// decides with: those SetState set, else the run's own (Fix), else those
// in force in the trail when asked (start when it cannot be read).
func (s *Station) stateFunc(start verdict.Thresholds) func() mqttout.State {
	follow := func() mqttout.State { return mqttout.State{Thresholds: start} }
	if s.engine != nil {
		follow = StateFollowing(s.engine.Manifest().Identity(), start, s.Follow())
	}
	return func() mqttout.State {
		if st := s.state.Load(); st != nil {
			return *st
		}
		return follow()
	}
}

// startPair is the pair the state says when it cannot read the trail's:
// the run's own, else the one in force now.
func (s *Station) startPair(ctx context.Context) (verdict.Thresholds, error) {
	if t, fixed := s.Own(); fixed {
		return t, nil
	}
	in, err := s.InForce(ctx)
	return in.Thresholds, err
}

// StartLine starts the line outputs the configuration asks for (MQTT,
// OPC UA, central), in that order, over the station's trail; stop ends
// them all, those SetLinks started included, the last started first
// (MQTT says offline).
func (s *Station) StartLine(ctx context.Context) (stop func(), err error) {
	stop = func() { s.stopOutputs(func(namedOutput) bool { return true }) }
	if s.cfg.MQTT == nil && s.cfg.OPCUA == nil && s.cfg.Central == "" {
		return stop, nil
	}
	start, err := s.startPair(ctx)
	if err != nil {
		return nil, err
	}
	for _, add := range []func(func() mqttout.State) error{s.startMQTT, s.startOPCUA, s.startCentral} {
		if err := add(s.stateFunc(start)); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// stopOutputs stops the running outputs which says, the last started
// first, and waits for each.
func (s *Station) stopOutputs(which func(namedOutput) bool) {
	s.outMu.Lock()
	var stopping, kept []namedOutput
	for _, o := range s.outputs {
		if which(o) {
			stopping = append(stopping, o)
		} else {
			kept = append(kept, o)
		}
	}
	s.outputs = kept
	s.outMu.Unlock()
	for k := len(stopping) - 1; k >= 0; k-- {
		stopping[k].stop()
	}
}

// run runs out until its stop is called. An output that listens (OPC
// UA) takes its address first, and the error it stops with is logged.
func (s *Station) run(name string, out Output, set bool) error {
	ctx, cancel := context.WithCancel(context.Background())
	l, listens := out.(listener)
	if listens {
		if err := l.Listen(ctx); err != nil {
			cancel()
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- out.Run(ctx) }()
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.outputs = append(s.outputs, namedOutput{name: name, out: out, set: set, stop: func() {
		cancel()
		if err := <-done; err != nil && listens {
			s.cfg.Log(err.Error())
		}
	}})
	return nil
}

// AddOutput runs out beside the station's line outputs, named name, until
// SetLinks replaces it or StartLine's stop ends them all; an output with a
// link (Linked) joins LinkStatus and DrainLine. It is how an output is
// added while the station runs.
func (s *Station) AddOutput(name string, out Output) error { return s.run(name, out, true) }

// Links are the outputs with a link set while the station runs, in place
// of those of its configuration (the window's File → Line connection…):
// the MQTT output and the forwarding to the central database at Central
// (a URL holding its password), each when set, as station Name on Line.
type Links struct {
	MQTT       *mqttout.Config
	Central    string
	Name, Line string
}

// SetLinks replaces the outputs added while the station runs (SetLinks,
// AddOutput) with those l asks for, over the station's trail; a Links
// with neither stops them. Each is made before any is stopped, so a
// setting that does not work leaves those running as they were. Their
// state message says what SetState set last, else as StartLine's do.
func (s *Station) SetLinks(l Links) error {
	var outs []namedOutput
	if l.MQTT != nil || l.Central != "" {
		start, err := s.startPair(context.Background())
		if err != nil {
			return err
		}
		if outs, err = s.newLinks(l, s.stateFunc(start)); err != nil {
			return err
		}
	}
	s.stopOutputs(func(o namedOutput) bool { return o.set })
	for _, o := range outs {
		_ = s.run(o.name, o.out, true) // neither listens, so neither fails to start
	}
	return nil
}

// newLinks makes the outputs l asks for, not yet running.
func (s *Station) newLinks(l Links, state func() mqttout.State) ([]namedOutput, error) {
	var outs []namedOutput
	if l.MQTT != nil {
		p, err := mqttout.New(*l.MQTT, s.trail, state)
		if err != nil {
			return nil, configError{err}
		}
		outs = append(outs, namedOutput{name: "mqtt", out: mqttOutput{p}})
	}
	if l.Central != "" {
		f, err := central.New(l.Central, l.Name, l.Line, s.trail)
		if err != nil {
			return nil, configError{err}
		}
		outs = append(outs, namedOutput{name: "central", out: f})
	}
	return outs, nil
}

// Outputs names the line outputs running, in the order started.
func (s *Station) Outputs() []string {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	names := make([]string, len(s.outputs))
	for k, o := range s.outputs {
		names[k] = o.name
	}
	return names
}

func (s *Station) startMQTT(state func() mqttout.State) error {
	if s.cfg.MQTT == nil {
		return nil
	}
	p, err := mqttout.New(*s.cfg.MQTT, s.trail, state)
	if err != nil {
		return configError{err}
	}
	_ = s.run("mqtt", mqttOutput{p}, false) // only a listener fails to start
	s.cfg.Log(fmt.Sprintf("publishing results to %s as station %s (topics %s…)",
		s.cfg.MQTT.URL, p.Station(), strings.TrimSuffix(p.Topic("result"), "result")))
	return nil
}

func (s *Station) startOPCUA(func() mqttout.State) error {
	if s.cfg.OPCUA == nil {
		return nil
	}
	cfg := *s.cfg.OPCUA
	cfg.Station, cfg.Store = s.cfg.Name, s.trail
	srv, err := opcuaout.New(cfg)
	if errors.Is(err, opcuaout.ErrNoUsers) {
		return configError{err}
	}
	if err != nil {
		return err
	}
	if err := s.run("opcua", srv, false); err != nil {
		return err
	}
	s.cfg.Log(fmt.Sprintf("OPC UA server on %s (namespace %s, station %s; %s)", srv.Endpoint(), opcuaout.NamespaceURI, s.cfg.Name, srv.Access()))
	return nil
}

func (s *Station) startCentral(func() mqttout.State) error {
	if s.cfg.Central == "" {
		return nil
	}
	f, err := central.New(s.cfg.Central, s.cfg.Name, s.cfg.Line, s.trail)
	if err != nil {
		return configError{err}
	}
	_ = s.run("central", f, false) // only a listener fails to start
	s.cfg.Log("forwarding the audit trail to the central database as station " + s.cfg.Name)
	return nil
}

// linked are the running outputs with a link (MQTT, central), in the
// order started.
func (s *Station) linked() []namedOutput {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	var out []namedOutput
	for _, o := range s.outputs {
		if _, ok := o.out.(Linked); ok {
			out = append(out, o)
		}
	}
	return out
}

// HasLinks says whether an output with a link (MQTT, central) runs.
func (s *Station) HasLinks() bool { return len(s.linked()) > 0 }

// LinkStatus is the state of the linked outputs running, in one line,
// and whether all are up.
func (s *Station) LinkStatus() (string, bool) {
	var parts []string
	up := true
	for _, o := range s.linked() {
		text, ok := o.out.(Linked).Status()
		parts = append(parts, text)
		up = up && ok
	}
	return strings.Join(parts, " · "), up
}

// DrainLine waits up to wait for the linked outputs to take everything
// recorded.
func (s *Station) DrainLine(ctx context.Context) error {
	for _, o := range s.linked() {
		if err := o.out.(Linked).Drain(ctx); err != nil {
			return fmt.Errorf("%s: %v", o.name, err)
		}
	}
	return nil
}
