package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// route is one endpoint. The route table is the single list the mux, the
// method check, the metrics labels and the OpenAPI test all read.
type route struct {
	path   string
	method string // GET routes answer HEAD too
	open   bool   // reachable without the token
	handle http.HandlerFunc
}

func (s *Server) routeTable() []route {
	return []route{
		{path: "/api/predict", method: http.MethodPost, handle: s.handlePredict},
		{path: "/api/model", method: http.MethodGet, handle: s.handleModel},
		{path: "/api/openapi.json", method: http.MethodGet, handle: s.handleOpenAPI},
		{path: "/healthz", method: http.MethodGet, open: true, handle: s.handleHealth},
		{path: "/metrics", method: http.MethodGet, handle: s.handleMetrics},
	}
}

func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	s.byPath = map[string]*route{}
	for i := range s.routes {
		rt := &s.routes[i]
		s.byPath[rt.path] = rt
		mux.Handle(rt.path, s.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no endpoint %s (the API is described at /api/openapi.json)", r.URL.Path))
	})
	// observe is outermost so that it logs and counts the 500 a recovered
	// panic turns into.
	return s.observe(s.recoverPanics(mux))
}

// guard checks the token (unless the route is open) and the method.
func (s *Server) guard(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.open {
			role, ok := s.authorized(w, r)
			if !ok {
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), roleKey, role))
		}
		if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
			allow := rt.method
			if rt.method == http.MethodGet {
				allow += ", HEAD"
			}
			w.Header().Set("Allow", allow)
			s.writeError(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not accept %s (use %s)", rt.path, r.Method, rt.method))
			return
		}
		rt.handle(w, r)
	})
}

// tokenDigest hashes a token so that comparing two digests takes the same
// time whatever the lengths of the tokens compared.
func tokenDigest(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// tokenDigestRole is a known token, by its digest, and its role.
type tokenDigestRole struct {
	sum  [32]byte
	role string
}

const roleKey ctxKey = 1

// roleOf is the role of the request's token; "" without tokens.
func roleOf(r *http.Request) string {
	role, _ := r.Context().Value(roleKey).(string)
	return role
}

// authorized checks the bearer token, answering 401 when it is missing
// or wrong, and says its role ("" when the server has no tokens).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) (string, bool) {
	if len(s.tokens) == 0 {
		return "", true
	}
	const realm = `Bearer realm="steelinspect"`
	h := r.Header.Get("Authorization")
	scheme, token, found := strings.Cut(h, " ")
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", realm)
		s.writeError(w, r, http.StatusUnauthorized, "missing bearer token: send the header \"Authorization: Bearer TOKEN\"")
		return "", false
	}
	got := tokenDigest(strings.TrimSpace(token))
	role := ""
	for _, t := range s.tokens { // every one compared, in constant time
		if subtle.ConstantTimeCompare(got[:], t.sum[:]) == 1 {
			role = t.role
		}
	}
	if role == "" {
		w.Header().Set("WWW-Authenticate", realm+`, error="invalid_token"`)
		s.writeError(w, r, http.StatusUnauthorized, "invalid bearer token")
		return "", false
	}
	return role, true
}

type ctxKey int

const requestIDKey ctxKey = 0

// requestID returns the id observe gave the request.
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// newRequestID keeps a sane X-Request-ID from the client (so the line's
// logs and ours can be joined) or makes a random one.
func newRequestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 64 && strings.Trim(id,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "" {
		return id
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, logs one line per request and counts
// it in the metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID(r)
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		rec := &statusRecorder{ResponseWriter: w}
		s.metrics.inflight.Add(1)
		defer func() {
			s.metrics.inflight.Add(-1)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			label := "other"
			if rt, ok := s.byPath[r.URL.Path]; ok {
				label = rt.path
			}
			s.metrics.request(label, r.Method, status, elapsed)
			s.log.Printf("%s %s %d %.1fms id=%s", r.Method, logSafe(r.URL.Path), status, float64(elapsed.Microseconds())/1000, id)
		}()
		next.ServeHTTP(rec, r)
	})
}

// logSafe quotes a path holding anything a log line should not (line
// breaks, control characters, spaces) so one request stays one line.
func logSafe(p string) string {
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	for _, c := range p {
		if c <= ' ' || c == 0x7f || c == '"' {
			return strconv.Quote(p)
		}
	}
	return p
}

// recoverPanics is the last resort: a panicking handler is logged with its
// stack and answered 500 (when nothing was written yet); the server stays up.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.metrics.panic()
			s.log.Printf("panic serving %s %s: %v\n%s", r.Method, logSafe(r.URL.Path), p, debug.Stack())
			if rec.status == 0 {
				s.writeError(rec, r, http.StatusInternalServerError, "internal error (logged on the server)")
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// errorBody is every error response: {"error": "...", "request_id": "..."}.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.metrics.failure(status)
	writeJSON(w, status, errorBody{Error: msg, RequestID: requestID(r)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error": "response could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// modelInfo is the answer of GET /api/model.
type modelInfo struct {
	Model             verdict.ModelIdentity `json:"model"`
	Source            string                `json:"source"`
	DefaultThresholds verdict.Thresholds    `json:"default_thresholds"`
	// ThresholdsInForce are what a request without its own is decided with.
	ThresholdsInForce verdict.Thresholds  `json:"thresholds_in_force"`
	Manifest          *inference.Manifest `json:"manifest"`
	Runtime           runtimeInfo         `json:"runtime"`
	Limits            limitsInfo          `json:"limits"`
	AppVersion        string              `json:"app_version"`
}

type runtimeInfo struct {
	ONNXRuntimeVersion string `json:"onnxruntime_version"`
}

type limitsInfo struct {
	MaxBodyBytes   int64    `json:"max_body_bytes"`
	MaxPixels      int64    `json:"max_pixels"`
	QueueSize      int      `json:"queue_size"`
	MaxBatchImages int      `json:"max_batch_images"`
	MaxBatchPixels int64    `json:"max_batch_pixels"`
	Formats        []string `json:"formats"`
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	m := s.engine.Manifest()
	_, version, _ := inference.RuntimeInfo()
	inForce, err := s.inForce(r.Context())
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, "cannot read the station's thresholds in force: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, modelInfo{
		ThresholdsInForce: inForce,
		Model:             m.Identity(),
		Source:            s.engine.Source(),
		DefaultThresholds: m.DefaultThresholds,
		Manifest:          m,
		Runtime:           runtimeInfo{ONNXRuntimeVersion: version},
		Limits: limitsInfo{
			MaxBodyBytes:   s.cfg.MaxBodyBytes,
			MaxPixels:      s.cfg.MaxPixels,
			QueueSize:      s.cfg.QueueSize,
			MaxBatchImages: s.cfg.MaxBatchImages,
			MaxBatchPixels: s.cfg.MaxBatchPixels,
			Formats:        inference.SupportedFormats,
		},
		AppVersion: s.cfg.Version,
	})
}

// health is the answer of GET /healthz.
type health struct {
	Status        string                `json:"status"`
	Model         verdict.ModelIdentity `json:"model"`
	QueueLength   int                   `json:"queue_length"`
	QueueCapacity int                   `json:"queue_capacity"`
	UptimeSeconds float64               `json:"uptime_seconds"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, health{
		Status:        "ok",
		Model:         s.engine.Manifest().Identity(),
		QueueLength:   len(s.queue),
		QueueCapacity: cap(s.queue),
		UptimeSeconds: time.Since(s.started).Seconds(),
	})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.write(w, gauges{
		queueLength:   len(s.queue),
		queueCapacity: cap(s.queue),
		engineRuns:    s.engine.Runs(),
		model:         s.engine.Manifest().Identity(),
	})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.openapi)))
	w.Write(s.openapi)
}
