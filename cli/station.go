package cli

import (
	"context"
	"errors"
	"fmt"

	"steelinspect/archive"
	"steelinspect/central"
	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/mqttout"
	"steelinspect/opcuaout"
	"steelinspect/station"
)

// stationSpec is what a command that runs a station (scan, watch, serve,
// the window) asked for on its command line: checked by prepareStation,
// opened by openStation, the one helper every such command opens its
// station through.
type stationSpec struct {
	common *commonFlags
	db     *dbFlag
	line   *lineFlags
	arch   *archive.Policy
	// noTrail: the command records nothing (--no-audit, scan without
	// --audit or a line output); trailOptional: the window, usable
	// without its trail
	noTrail, trailOptional bool
	// engine are the command's own engine options (serve's batches)
	engine inference.EngineOptions
	env    Env
}

// prepareStation checks the line and archive options together (--mqtt and
// --opcua read the audit trail, so they refuse --no-audit): the station
// is opened later, with openStation.
func prepareStation(common *commonFlags, db *dbFlag, mq *lineFlags, af *archiveFlags, noAudit bool, env Env) (*stationSpec, error) {
	if err := mq.check(); err != nil {
		return nil, err
	}
	if noAudit && mq.needsTrail() {
		return nil, fmt.Errorf("%w: --mqtt, --opcua and --central read the audit trail: drop --no-audit", errUsage)
	}
	policy, err := af.policy()
	if err != nil {
		return nil, err
	}
	return &stationSpec{common: common, db: db, line: mq, arch: policy, noTrail: noAudit, env: env}, nil
}

// openStation opens the station spec describes: its archive, its audit
// trail (--db: this machine's, or serve's shared one in the central
// database), its engine and the line outputs it will start (StartLine).
func openStation(ctx context.Context, spec *stationSpec) (*station.Station, error) {
	mq := spec.line
	cfg := station.Config{NoTrail: spec.noTrail, TrailOptional: spec.trailOptional, Archive: spec.arch,
		Model: spec.common.model, Engine: spec.engine, Name: mq.stationName(), Line: mq.line, Central: mq.central,
		Log: func(line string) { fmt.Fprintf(spec.env.Stderr, "steelinspect: %s\n", line) }}
	cfg.Engine.LibraryPath = spec.common.ortLib
	if err := spec.trail(&cfg); err != nil {
		return nil, err
	}
	if mq.on() {
		m := mqttout.Config{URL: mq.url, Username: mq.user, CAFile: mq.ca, Station: mq.station}
		if mq.passwordFile != "" {
			pw, err := files.ReadPassword(mq.passwordFile)
			if err != nil {
				return nil, fmt.Errorf("--mqtt-password-file: %v", err)
			}
			m.Password = pw
		}
		cfg.MQTT = &m
	}
	if mq.opcua != "" {
		if mq.opcuaAddr == "" {
			if err := mq.checkOPCUA(); err != nil {
				return nil, err
			}
		}
		cfg.OPCUA = &opcuaout.Config{Addr: mq.opcuaAddr, AllowRemote: mq.allowRemote != nil && *mq.allowRemote}
	}
	st, err := station.Open(ctx, cfg)
	if err != nil {
		return nil, usageOf(err)
	}
	warnTrail(st.Trail())
	return st, nil
}

// trail sets where cfg's trail is: --db's file, or with serve's --db
// postgres://… the shared trail.
func (spec *stationSpec) trail(cfg *station.Config) error {
	if spec.noTrail {
		return nil
	}
	if spec.line.sharedTrail {
		cfg.Shared = spec.db.path
		return nil
	}
	file, err := spec.db.file()
	if err != nil && spec.trailOptional {
		cfg.Log(fmt.Sprintf("audit trail off: %v", err))
		cfg.NoTrail = true
		return nil
	}
	cfg.Trail = file
	return err
}

// usageOf makes a station's configuration error a usage error (exit 2).
func usageOf(err error) error {
	if errors.Is(err, station.ErrConfig) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

// startLine starts st's line outputs; stop ends them all.
func startLine(st *station.Station) (stop func(), err error) {
	stop, err = st.StartLine(context.Background())
	return stop, usageOf(err)
}

// sharedTrailOf says, for serve's --db postgres://…, which station it
// records as in the shared trail.
func sharedTrailOf(st *station.Station, env Env) {
	if t := st.Shared(); t != nil {
		fmt.Fprintf(env.Stderr, "steelinspect serve: recording in the shared trail of the central database as station %s\n", t.Station())
	}
}

// isShared says whether --db names the central database's shared trail.
func isShared(db *dbFlag) bool { return central.IsURL(db.path) }
