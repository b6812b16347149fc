// Package server is steelinspect's HTTP API for a line's control system:
// POST /api/predict scores one strip image and answers the traffic-light
// decision with the fields of the seed's REST sketch, plus the patches, the
// model's identity and the thresholds that produced it.
//
// All requests share one inference.Engine. A handler checks an upload
// (size, format, pixel count) and puts it on a bounded queue; a single
// worker drains the queue and hands every image waiting at that moment to
// Engine.AnalyzeBatch, so the patches of concurrent requests share model
// runs. A full queue answers 503 with Retry-After rather than piling up
// memory. Serve shuts down gracefully: it stops accepting, lets the requests
// in flight finish, then stops the worker; the caller closes the engine.
//
// The server never makes outbound connections.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"steelinspect/station"
	"strings"
	"sync"
	"time"

	"steelinspect/inference"
	"steelinspect/internal/netaddr"
	"steelinspect/verdict"
)

// Defaults for the zero values of Config.
const (
	DefaultQueueSize      = 64
	DefaultMaxBatchImages = 8
	DefaultMaxBodyBytes   = 8 << 20
	// DefaultMaxPixels is 10 megapixels, 24 strips of 1600×256: tighter than
	// the engine's own default because the server decodes what anyone on
	// the line sends, several images at a time.
	DefaultMaxPixels = 10_000_000
	// DefaultMaxBatchPixels bounds the pixels decoded in one engine call
	// (ten strips), so a batch of large images cannot exhaust memory.
	DefaultMaxBatchPixels = 4_000_000
	DefaultRequestTimeout = 60 * time.Second
	// DefaultBodyTimeout bounds how long a request body may take to arrive
	// (8 MiB at 300 KiB/s).
	DefaultBodyTimeout     = 30 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
)

// Config tunes a Server. The zero value is a loopback-only server without
// authentication and with the defaults above.
type Config struct {
	// Station, when set, decides and records every decision the API gives
	// (source "api") before the answer is sent: in its trail (this
	// machine's, or the trail several instances behind a load balancer
	// share, central.SharedTrail), keeping copies of the strips its archive
	// asks for. A decision that cannot be recorded is not given (500), so
	// the trail has no gaps. Each request without thresholds of its own is
	// decided with the station's thresholds in force (Station.Follow: the
	// audit trail's, which a supervisor may change while the server runs);
	// nil, or a station that does not follow them: the model's defaults.
	Station *station.Station
	// Tokens, when any, are the bearer tokens one of which must be sent as
	// "Authorization: Bearer TOKEN" on every route except /healthz. Only a
	// supervisor's or admin's token may send its own thresholds with a
	// request (pass_threshold, reject_threshold); others get 403 for them.
	// Without tokens no request may send its own thresholds.
	Tokens []Token
	// Token is one more token, an operator's.
	Token string
	// QueueSize bounds the requests waiting for the model; a request that
	// finds the queue full gets 503. 0 means DefaultQueueSize.
	QueueSize int
	// MaxBatchImages bounds how many waiting images one engine call takes.
	// 0 means DefaultMaxBatchImages.
	MaxBatchImages int
	// MaxBatchPixels bounds the pixels of the images one engine call takes
	// (a larger single image still goes alone). 0 means
	// DefaultMaxBatchPixels.
	MaxBatchPixels int64
	// MaxBodyBytes bounds a request body (413 above). 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxPixels refuses larger images (413) from their header, before they
	// are queued or decoded. 0 means DefaultMaxPixels; give the engine the
	// same value (inference.EngineOptions.MaxPixels).
	MaxPixels int64
	// BodyTimeout bounds how long a predict request's body may take to
	// arrive (408 after it). 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// RequestTimeout bounds how long a request waits for its result.
	// 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for requests in flight
	// once its context is done. 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Version is the application version shown by /api/model and the
	// OpenAPI document.
	Version string
	// Log receives one line per request and every recovered panic; nil
	// discards them.
	Log io.Writer

	// holdWorker, when set (tests only), runs in the worker each time it
	// has taken a job, before it collects the others waiting.
	holdWorker func()
}

// Server answers the HTTP API with one engine. Create it with New; it is
// safe for concurrent use.
type Server struct {
	engine  *inference.Engine
	station *station.Station
	// follow reads the station's thresholds in force; nil: the model's
	// defaults
	follow  func(context.Context) (verdict.Thresholds, error)
	cfg     Config
	log     *log.Logger
	metrics *metrics
	routes  []route
	byPath  map[string]*route
	handler http.Handler
	openapi []byte
	started time.Time
	tokens  []tokenDigestRole

	// uploads bounds the predict requests with a whole body that are
	// queued or being scored; bodyBudget bounds the bytes of all bodies in
	// memory, arriving or whole, at (QueueSize+MaxBatchImages) ×
	// MaxBodyBytes, whatever the clients do. A slow client holds only what
	// it has sent.
	uploads    chan struct{}
	bodyBudget *byteBudget

	mu         sync.RWMutex // guards closed and sending on queue
	closed     bool
	queue      chan *job
	workerDone chan struct{}
}

// New makes a server on e and starts its worker. The caller keeps owning
// e and closes it after Close (or Serve) has returned.
//
// Cyclomatic complexity above 15, kept: one default per zero-valued limit, in the order Config lists them.
//
//gocyclo:ignore
func New(e *inference.Engine, cfg Config) (*Server, error) {
	if e == nil {
		return nil, errors.New("server needs an engine")
	}
	if cfg.QueueSize < 0 || cfg.MaxBatchImages < 0 || cfg.MaxBatchPixels < 0 || cfg.MaxBodyBytes < 0 || cfg.MaxPixels < 0 ||
		cfg.RequestTimeout < 0 || cfg.ShutdownTimeout < 0 || cfg.BodyTimeout < 0 {
		return nil, errors.New("server limits must not be negative")
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxBatchImages == 0 {
		cfg.MaxBatchImages = DefaultMaxBatchImages
	}
	if cfg.MaxBatchPixels == 0 {
		cfg.MaxBatchPixels = DefaultMaxBatchPixels
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxPixels == 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	s := &Server{
		engine:     e,
		station:    station.FromParts(nil, nil, e), // no trail, no archive
		cfg:        cfg,
		log:        log.New(cfg.Log, "", log.LstdFlags|log.LUTC),
		metrics:    newMetrics(),
		started:    time.Now(),
		queue:      make(chan *job, cfg.QueueSize),
		uploads:    make(chan struct{}, cfg.QueueSize+cfg.MaxBatchImages),
		bodyBudget: &byteBudget{free: int64(cfg.QueueSize+cfg.MaxBatchImages) * cfg.MaxBodyBytes}, // BodyBudget
		workerDone: make(chan struct{}),
	}
	if cfg.Station != nil {
		s.station, s.follow = cfg.Station, cfg.Station.Follow()
	}
	if cfg.Token != "" {
		cfg.Tokens = append(cfg.Tokens, Token{Secret: cfg.Token, Role: RoleOperator})
	}
	for _, t := range cfg.Tokens {
		s.tokens = append(s.tokens, tokenDigestRole{tokenDigest(t.Secret), t.Role})
	}
	doc, err := s.openAPIDocument()
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	s.routes = s.routeTable()
	s.handler = s.buildHandler()
	go s.work()
	return s, nil
}

// Handler returns the server's HTTP handler (all routes and middleware).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: the listener closes, requests in flight finish (for at most
// Config.ShutdownTimeout), and the worker stops. It returns nil after a
// clean shutdown. The engine is left open for the caller to close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      s.cfg.RequestTimeout + 2*time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.log.Printf("shutting down: finishing requests in flight (at most %s)", s.cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if serveErr := <-served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	s.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close stops accepting work, lets the worker finish what is queued, and
// waits for it. Requests arriving later get 503. Close is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.workerDone
}

// BodyBudget is how many bytes of request bodies the server holds at most,
// all requests together.
func (s *Server) BodyBudget() int64 {
	return int64(s.cfg.QueueSize+s.cfg.MaxBatchImages) * s.cfg.MaxBodyBytes
}

// IsLoopbackAddr reports whether a listen address (host:port) binds only
// the loopback interface (netaddr.IsLoopback, the rule --opcua shares).
func IsLoopbackAddr(addr string) (bool, error) { return netaddr.IsLoopback(addr) }

// Token roles. A supervisor (or admin) token may send its own thresholds
// with a request; an operator token gets the station's.
const (
	RoleOperator   = "operator"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Token is one bearer token and the role it carries.
type Token struct {
	Secret string
	Role   string
}

// maxTokenFile bounds a token file.
const maxTokenFile = 64 << 10

// ownerOnly refuses a token file that others than its owner can read.
func ownerOnly(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("token file %s can be read by others than its owner (mode %04o): its tokens would let anyone on the station call the API; chmod 600 it", path, perm)
	}
	return nil
}

// parseTokenLine reads one "ROLE TOKEN" or bare "TOKEN" line.
func parseTokenLine(line string) (Token, error) {
	words := strings.Fields(line)
	t := Token{Role: RoleOperator}
	switch len(words) {
	case 1:
		t.Secret = words[0]
	case 2:
		t.Role, t.Secret = strings.ToLower(words[0]), words[1]
	default:
		return t, errors.New("want \"ROLE TOKEN\" or \"TOKEN\"")
	}
	if t.Role != RoleOperator && t.Role != RoleSupervisor && t.Role != RoleAdmin {
		return t, fmt.Errorf("role %q is not operator, supervisor or admin", words[0])
	}
	if k := len([]rune(t.Secret)); k < MinTokenLength {
		return t, fmt.Errorf("a token of %d characters is too easy to guess; use at least %d random ones", k, MinTokenLength)
	}
	return t, nil
}

// MinTokenLength is the shortest token a token file may hold.
const MinTokenLength = 16

// ReadTokenFile reads the bearer tokens from path: one per line, each
// "ROLE TOKEN" (operator, supervisor or admin) or a bare TOKEN (an
// operator's); blank lines and lines starting with # are skipped. A file
// with no token is an error, so a blank file cannot turn authentication
// off by accident.
func ReadTokenFile(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	if err := ownerOnly(f, path); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if len(raw) > maxTokenFile {
		return nil, fmt.Errorf("token file %s is over %d KiB", path, maxTokenFile>>10)
	}
	var out []Token
	seen := map[string]bool{}
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t, err := parseTokenLine(line)
		if err != nil {
			return nil, fmt.Errorf("token file %s, line %d: %w", path, n+1, err)
		}
		if seen[t.Secret] {
			return nil, fmt.Errorf("token file %s, line %d: the same token twice", path, n+1)
		}
		seen[t.Secret] = true
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("token file %s holds no token", path)
	}
	return out, nil
}
