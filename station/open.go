package station

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"steelinspect/archive"
	"steelinspect/audit"
	"steelinspect/central"
	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/mqttout"
	"steelinspect/opcuaout"
	"steelinspect/verdict"
)

// A station is opened once, by Open, for every entry point that runs
// one (scan, watch, serve and the window): its audit trail, its archive,
// its engine and the thresholds in force, then its line outputs
// (StartLine). restic's "every command opens the repository through one
// helper" is the model.

// Config says what Open sets up. Every field but Model may be left out.
type Config struct {
	// Trail is the audit database file; NoTrail opens none (scan without
	// --audit, --no-audit).
	Trail   string
	NoTrail bool
	// TrailOptional leaves the station without a trail, said through Log,
	// when it does not open (the window stays usable without one); the
	// engine is then opened first, as the window did.
	TrailOptional bool
	// Shared, when set, is the central database URL whose shared trail
	// the station records in as Name on Line (serve's API instances behind
	// a load balancer), in place of Trail; the line outputs then have no
	// trail of this machine to follow.
	Shared string
	// Archive, when set, is the policy of the archive of strips.
	Archive *archive.Policy
	// Model is the model file ("" the bundled model) and Engine its
	// options.
	Model  string
	Engine inference.EngineOptions
	// Name is the station's name on the OPC UA server and in the central
	// database; Line its production line there.
	Name, Line string
	// The line outputs StartLine starts over the trail, each when set:
	// the MQTT output, the OPC UA server (its Store and Station are the
	// station's) and the forwarding to the central database at Central.
	MQTT    *mqttout.Config
	OPCUA   *opcuaout.Config
	Central string
	// Log hears one line for what the station starts, or goes without.
	Log func(string)
}

// ErrConfig matches the errors of a Config that cannot work (a bad
// broker URL, an archive folder that cannot be made): the caller's
// settings, not the station, are at fault.
var ErrConfig = errors.New("station configuration")

type configError struct{ err error }

func (e configError) Error() string        { return e.err.Error() }
func (e configError) Is(target error) bool { return target == ErrConfig }
func (e configError) Unwrap() error        { return e.err }

// opened is what Open adds to a Station: what it owns and closes.
type opened struct {
	cfg    Config
	trail  *audit.Store // this machine's trail; nil without or when shared
	shared *central.SharedTrail
	engine *inference.Engine
	// handedOver: the engine is the caller's to close (the window's)
	handedOver bool
	// own is a run's own pair of thresholds, fixed (Fix); nil follows
	// the trail. The window fixes its pair on its UI goroutine while its
	// worker and Watch folder read it.
	own   atomic.Pointer[verdict.Thresholds]
	state atomic.Pointer[mqttout.State]
	// outMu guards outputs, which SetLinks changes while the station runs
	outMu sync.Mutex
	// the line outputs running, in the order started
	outputs []namedOutput
	// parts: made by FromParts, Close closes none of them
	parts bool
}

// FromParts makes a station of parts opened, and closed, by the caller:
// store may be nil (no trail), a nil; e is the model whose defaults are
// in force while store's trail records none, and may be nil (the seed's
// verdict.DefaultThresholds stand for them then: the window's tests,
// whose pair is fixed with Fix). The thresholds follow store's trail
// (Follow) when it is this machine's (*audit.Store). Close closes none of
// the parts.
func FromParts(store Recorder, a *archive.Archive, e *inference.Engine) *Station {
	o := &opened{cfg: Config{Log: func(string) {}}, engine: e, handedOver: true, parts: true}
	if t, ok := store.(*audit.Store); ok {
		o.trail = t
	}
	return &Station{Store: store, Archive: a, opened: o}
}

// Open opens the station cfg describes: the archive, then the audit
// trail and the engine. Close closes what it opened.
func Open(ctx context.Context, cfg Config) (*Station, error) {
	if cfg.Log == nil {
		cfg.Log = func(string) {}
	}
	s := &Station{opened: &opened{cfg: cfg}}
	if cfg.Archive != nil {
		a, err := archive.New(*cfg.Archive)
		if err != nil {
			return nil, configError{err}
		}
		s.Archive = a
	}
	if cfg.TrailOptional {
		if err := s.openEngine(); err != nil {
			return nil, err
		}
	}
	if err := s.openTrail(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.engine == nil {
		if err := s.openEngine(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Station) openEngine() error {
	e, err := models.Open(s.cfg.Model, s.cfg.Engine)
	if err != nil {
		return err
	}
	s.engine = e
	return nil
}

// openTrail opens the trail the station records in: the shared one, this
// machine's, or none.
func (s *Station) openTrail(ctx context.Context) error {
	switch {
	case s.cfg.NoTrail:
		return nil
	case s.cfg.Shared != "":
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		t, err := central.OpenShared(ctx, s.cfg.Shared, s.cfg.Name, s.cfg.Line)
		if err != nil {
			return err
		}
		s.shared, s.Store = t, t
		return nil
	}
	store, err := audit.Open(s.cfg.Trail)
	if err != nil {
		if s.cfg.TrailOptional {
			s.cfg.Log(fmt.Sprintf("audit trail off: %v", err))
			return nil
		}
		return err
	}
	s.trail, s.Store = store, store
	return nil
}

// Close closes the engine (unless handed over) and the trail.
func (s *Station) Close() {
	if s.parts {
		return
	}
	if s.engine != nil && !s.handedOver {
		s.engine.Close()
	}
	if s.trail != nil {
		s.trail.Close()
	}
	if s.shared != nil {
		s.shared.Close()
	}
}

// Trail is the station's own audit trail; nil without one, or when it
// records in the central database's shared trail.
func (s *Station) Trail() *audit.Store {
	if s.opened == nil {
		return nil
	}
	return s.trail
}

// Shared is the central database's shared trail the station records in;
// nil unless Config.Shared.
func (s *Station) Shared() *central.SharedTrail { return s.shared }

// Engine is the station's model.
func (s *Station) Engine() *inference.Engine { return s.engine }

// HandOverEngine gives the engine to the caller, who closes it from then
// on (the window, which changes models).
func (s *Station) HandOverEngine() *inference.Engine {
	s.handedOver = true
	return s.engine
}

// defaults are the model's thresholds, in force while the trail records
// none; the seed's for a station of parts without a model.
func (s *Station) defaults() verdict.Thresholds {
	if s.engine == nil {
		return verdict.DefaultThresholds
	}
	return s.engine.Manifest().DefaultThresholds
}

// InForce reads the thresholds in force: the trail's, else the model's
// defaults. A run's own pair (Fix) does not change what is in force.
func (s *Station) InForce(ctx context.Context) (InForce, error) {
	return ThresholdsInForce(ctx, s.trail, s.defaults())
}

// Fix makes t this run's thresholds: they no longer follow the trail.
// It may be called again while the station runs (the window fixes the
// pair its sliders hold each time it changes).
func (s *Station) Fix(t verdict.Thresholds) { s.own.Store(&t) }

// Own is the run's own pair (Fix), and whether there is one; without one
// the station follows the trail.
func (s *Station) Own() (verdict.Thresholds, bool) {
	if s.opened == nil {
		return verdict.Thresholds{}, false
	}
	if t := s.own.Load(); t != nil {
		return *t, true
	}
	return verdict.Thresholds{}, false
}

// Follow reads the thresholds to decide a strip with, each time it is
// called (for each strip or request): those in force in the trail, which
// a supervisor may change while the station runs. Nil when they do not
// change while it runs (no trail, or a run's own pair: Fix).
func (s *Station) Follow() func(context.Context) (verdict.Thresholds, error) {
	if _, fixed := s.Own(); s.opened == nil || fixed {
		return nil
	}
	return FollowInForce(s.trail, s.defaults())
}

// RecordThresholds records by who a change of the thresholds in force to
// now, the trail deciding from then on.
func (s *Station) RecordThresholds(ctx context.Context, who string, now verdict.Thresholds) error {
	old, err := s.InForce(ctx)
	if err != nil {
		return err
	}
	return RecordThresholds(ctx, s.trail, who, old, now)
}

// FollowInForce reads the thresholds in force in store's trail each time
// it is called, defaults while the trail records none; nil without a
// trail.
func FollowInForce(store *audit.Store, defaults verdict.Thresholds) func(context.Context) (verdict.Thresholds, error) {
	if store == nil {
		return nil
	}
	return func(ctx context.Context) (verdict.Thresholds, error) {
		in, err := ThresholdsInForce(ctx, store, defaults)
		return in.Thresholds, err
	}
}

// StateFollowing is the MQTT state of a station that follows the
// thresholds in force (follow, read at each state message, which the
// publisher sends again when a setting change enters the trail): a
// supervisor's change reaches the line's retained state. Without follow
// (a run's own pair, or no trail) the state is fixed at th.
func StateFollowing(m verdict.ModelIdentity, th verdict.Thresholds, follow func(context.Context) (verdict.Thresholds, error)) func() mqttout.State {
	if follow == nil {
		return func() mqttout.State { return mqttout.State{Model: m, Thresholds: th} }
	}
	return func() mqttout.State {
		t, err := follow(context.Background())
		if err != nil {
			t = th // the state message goes out all the same; the strips say the error
		}
		return mqttout.State{Model: m, Thresholds: t}
	}
}

// SetState sets the model and thresholds the line outputs say the station
// decides with, for a station that sets them itself (the window, whose
// operator may change models); otherwise the state follows Fix or the
// trail.
func (s *Station) SetState(model verdict.ModelIdentity, t verdict.Thresholds) {
	s.state.Store(&mqttout.State{Model: model, Thresholds: t})
}

// State is what SetState set last, and whether it was called.
func (s *Station) State() (model verdict.ModelIdentity, t verdict.Thresholds, set bool) {
	st := s.state.Load()
	if st == nil {
		return verdict.ModelIdentity{}, verdict.Thresholds{}, false
	}
	return st.Model, st.Thresholds, true
}
