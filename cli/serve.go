package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"steelinspect/inference"
	"steelinspect/server"
	"steelinspect/station"
	"steelinspect/verdict"
)

// serveMaxBatch is the engine's patches per model run when serving: one
// strip's 12 patches and a few more. Batching requests still saves the
// per-run overhead, while resident memory peaked at 0.78 GB; with 48
// patches per run the EfficientNet activations grew it to 1.8 GB resident
// under the same 32-client load test, at 4.9 instead of 5.5 requests/s.
const serveMaxBatch = inference.DefaultMaxBatch

// serveHeapBeyondBodies is the Go heap serve needs besides request bodies
// (decoded strips, results, the trail's driver), for its soft memory
// limit; the model's own memory is ONNX Runtime's, outside the Go heap.
const serveHeapBeyondBodies = 256 << 20

func runServe(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("serve", env)
	common.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` host:port (loopback unless a token is set or --allow-remote)")
	tokenFile := fs.String("token-file", "", "require \"Authorization: Bearer TOKEN\" with a token of this `file`: one per line, \"ROLE TOKEN\" (operator, supervisor, admin) or a bare operator TOKEN; only a supervisor's or admin's may send thresholds (all routes but /healthz)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr without --token-file (anyone on the network may call the API), and a non-loopback --opcua (whose clients sign in as a station user)")
	queue := fs.Int("queue", server.DefaultQueueSize, "requests that may wait for the model before the server answers 503")
	var db dbFlag
	db.register(fs)
	noAudit := fs.Bool("no-audit", false, "do not record the API's decisions in the audit database")
	var mq lineFlags
	mq.register(fs)
	var af archiveFlags
	af.register(fs)
	mq.registerOPCUA(fs, allowRemote)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: steelinspect serve [--addr 127.0.0.1:8080] [--model M] [--token-file F] [--allow-remote] [--queue N]")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q (serve takes only flags)", errUsage, rest[0])
	}
	if *queue < 1 {
		return fmt.Errorf("%w: --queue must be at least 1", errUsage)
	}
	tokens, loopback, err := serveAccess(*tokenFile, *addr, *allowRemote)
	if err != nil {
		return err
	}

	mq.sharedTrail = isShared(&db)
	spec, err := prepareStation(&common, &db, &mq, &af, *noAudit, env)
	if err != nil {
		return err
	}
	spec.engine = inference.EngineOptions{MaxBatch: serveMaxBatch, MaxPixels: server.DefaultMaxPixels}
	st, err := openStation(context.Background(), spec)
	if err != nil {
		return err
	}
	defer st.Close() // the engine after the server has stopped its worker (deferred below, runs first)
	sharedTrailOf(st, env)
	e := st.Engine()
	srv, err := server.New(e, server.Config{Station: st, Tokens: tokens, QueueSize: *queue, Version: Version, Log: env.Stderr})
	if err != nil {
		return err
	}
	defer srv.Close()
	if os.Getenv("GOMEMLIMIT") == "" {
		// the collector works harder as the heap nears what the bodies in
		// flight may hold, instead of letting garbage double it
		debug.SetMemoryLimit(srv.BodyBudget()*5/4 + serveHeapBeyondBodies)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	inForce, err := st.InForce(context.Background())
	if err != nil {
		return err
	}
	stopLine, err := startLine(st)
	if err != nil {
		return err
	}
	defer stopLine()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C during the graceful shutdown kills at once
	}()

	serveBanner(env, e.Manifest().Identity(), ln.Addr(), len(tokens), inForce, loopback, *addr)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "steelinspect serve: stopped")
	return nil
}

// serveAccess reads --token-file and holds --addr to the rule: a
// non-loopback address needs tokens or --allow-remote.
func serveAccess(tokenFile, addr string, allowRemote bool) (tokens []server.Token, loopback bool, err error) {
	if tokenFile != "" {
		if tokens, err = server.ReadTokenFile(tokenFile); err != nil {
			return nil, false, err
		}
	}
	loopback, err = listenRule("--addr", addr, len(tokens) > 0 || allowRemote,
		"anyone on the network could call the API: give --token-file F, or --allow-remote to accept that")
	return tokens, loopback, err
}

// serveBanner says what serve serves, how it is guarded and with which
// thresholds, and warns of an API open to the network.
func serveBanner(env Env, id verdict.ModelIdentity, at net.Addr, tokens int, inForce station.InForce, loopback bool, addr string) {
	auth := "no token: requests cannot send their own thresholds"
	if tokens > 0 {
		auth = fmt.Sprintf("%d bearer token(s); only a supervisor's may send thresholds", tokens)
	}
	fmt.Fprintf(env.Stderr, "steelinspect serve: model %s %s (%s) on http://%s (%s); thresholds %s; Ctrl-C stops\n",
		id.Name, id.Version, id.ShortHash(), at, auth, inForce)
	if !loopback && tokens == 0 {
		fmt.Fprintf(env.Stderr, "steelinspect serve: warning: %s is reachable from the network without authentication (--allow-remote)\n", addr)
	}
}
