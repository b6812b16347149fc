package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"steelinspect/audit"
	"steelinspect/internal/testimg"
	"steelinspect/station"
	"time"

	"steelinspect/inference"
	"steelinspect/verdict"
)

// tinyModel scores a patch as its mean brightness / 255, so strips with
// known brightness give known decisions.
const tinyModel = "../testdata/models/tiny-nchw.manifest.json"

func openFuzzEngine() (*inference.Engine, error) {
	return inference.OpenModel(tinyModel, inference.EngineOptions{MaxBatch: 48, Threads: 1})
}

func openEngine(t *testing.T) *inference.Engine {
	t.Helper()
	e, err := openFuzzEngine()
	if err != nil {
		t.Fatalf("open %s: %v", tinyModel, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// syncBuffer collects the server's log safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	*Server
	engine *inference.Engine
	url    string
	log    *syncBuffer
}

// start serves cfg on a real listener on 127.0.0.1 with the tiny model.
func start(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startOn(t, openEngine(t), cfg)
}

// startOn serves cfg with the engine e (the engine of cfg.Station).
func startOn(t *testing.T, e *inference.Engine, cfg Config) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Log == nil {
		cfg.Log = logs
	}
	s, err := New(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: s, engine: e, url: hs.URL, log: logs}
}

var client = &http.Client{Timeout: 30 * time.Second}

// stripPNG is a 1600×256 grey PNG whose columns [x0,x1) have value v and
// the rest 0.
func stripPNG(_ testing.TB, x0, x1 int, v uint8) []byte { return testimg.StripPNG(x0, x1, v) }

func blackStrip(t testing.TB) []byte { return stripPNG(t, 0, 0, 0) }
func whiteStrip(t testing.TB) []byte { return stripPNG(t, 0, 1600, 255) }

// formPart is one part of a multipart/form-data body; a file when filename
// is set.
type formPart struct {
	name, filename string
	data           []byte
}

func formBody(t testing.TB, parts ...formPart) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			disp += `; filename="` + p.filename + `"`
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Disposition", disp)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
}

func do(t testing.TB, method, url, contentType string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return response{status: -1}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// Errorf, not Fatalf: do also runs in goroutines other than the test's.
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return response{status: -1}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// predictForm posts one image as multipart with optional extra parts.
func predictForm(t testing.TB, base string, img []byte, extra ...formPart) response {
	t.Helper()
	body, ct := formBody(t, append([]formPart{{name: "image", filename: "strip.png", data: img}}, extra...)...)
	return do(t, http.MethodPost, base+"/api/predict", ct, body)
}

type prediction struct {
	RequestID string `json:"request_id"`
	verdict.Record
	BatchImages int     `json:"batch_images"`
	ServerMS    float64 `json:"server_ms"`
}

func decodePrediction(t testing.TB, r response) prediction {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var p prediction
	r.json(t, &p)
	return p
}

func TestPredictMultipartDecisions(t *testing.T) {
	ts := start(t, Config{})
	for _, c := range []struct {
		name     string
		img      []byte
		decision string
		zones    verdict.ZoneCounts
		conf     float64
	}{
		{"all black", blackStrip(t), "PASS", verdict.ZoneCounts{AutoPass: 12}, testimg.TextureBackground / 255.0},
		{"all white", whiteStrip(t), "REJECT", verdict.ZoneCounts{AutoReject: 12}, testimg.TextureWhite / 255.0},
		// Columns 0..128 bright: the first patch (0..256) has mean
		// (TextureWhite+TextureBackground)/2 = 127.5, 0.5; the rest less.
		{"one bright band", stripPNG(t, 0, 128, 255), "REVIEW", verdict.ZoneCounts{AutoPass: 11, ManualReview: 1}, 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := predictForm(t, ts.url, c.img)
			p := decodePrediction(t, r)
			if p.Decision.String() != c.decision || p.Zones != c.zones {
				t.Errorf("decision %s zones %+v, want %s %+v", p.Decision, p.Zones, c.decision, c.zones)
			}
			if d := p.Confidence - c.conf; d > 1e-3 || d < -1e-3 {
				t.Errorf("confidence %v, want %v", p.Confidence, c.conf)
			}
			if p.ConfidenceLevel == "" || p.Recommendation == "" {
				t.Errorf("confidence_level %q recommendation %q", p.ConfidenceLevel, p.Recommendation)
			}
			if len(p.Patches) != 12 || p.Patches[11].X != 1344 || p.Patches[0].W != 256 || p.Patches[0].H != 256 {
				t.Errorf("patches %+v", p.Patches)
			}
			if p.Model.Name != "tiny-nchw" || len(p.Model.SHA256) != 64 || p.Model.Version == "" {
				t.Errorf("model %+v", p.Model)
			}
			if p.Thresholds != verdict.DefaultThresholds {
				t.Errorf("thresholds %+v, want the model's defaults", p.Thresholds)
			}
			if p.Timings == nil || p.Timings.TotalMS <= 0 || p.ServerMS <= 0 {
				t.Errorf("timings %+v server_ms %v", p.Timings, p.ServerMS)
			}
			if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-ID") {
				t.Errorf("request_id %q, header %q", p.RequestID, r.header.Get("X-Request-ID"))
			}
			if p.Path != "strip.png" || p.Image == nil || p.Image.Width != 1600 || p.BatchImages != 1 {
				t.Errorf("path %q image %+v batch %d", p.Path, p.Image, p.BatchImages)
			}
		})
	}
}

func TestPredictSeedFieldNames(t *testing.T) {
	ts := start(t, Config{})
	r := predictForm(t, ts.url, blackStrip(t))
	var raw map[string]any
	r.json(t, &raw)
	for _, k := range []string{"decision", "confidence", "confidence_level", "zones", "recommendation",
		"mean_probability", "patches", "model", "thresholds", "timings_ms", "request_id"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("response lacks %q", k)
		}
	}
	zones, _ := raw["zones"].(map[string]any)
	for _, k := range []string{"auto_pass", "manual_review", "auto_reject"} {
		if _, ok := zones[k]; !ok {
			t.Errorf("zones lack %q: %v", k, zones)
		}
	}
}

func TestPredictThresholds(t *testing.T) {
	ts := start(t, Config{Tokens: []Token{{"sup", RoleSupervisor}}})
	auth := []string{"Authorization", "Bearer sup"}
	grey := stripPNG(t, 0, 1600, 128) // every patch 128/255 = 0.502
	for _, c := range []struct {
		name, query    string
		form           []formPart
		raw            bool
		decision       string
		pass, rejectTh float64
	}{
		{name: "defaults, raw", raw: true, decision: "REVIEW", pass: 0.40, rejectTh: 0.65},
		{name: "query, raw", raw: true, query: "?pass_threshold=0.2&reject_threshold=0.45", decision: "REJECT", pass: 0.2, rejectTh: 0.45},
		{name: "query, raw, pass only", raw: true, query: "?pass_threshold=0.55", decision: "PASS", pass: 0.55, rejectTh: 0.65},
		{name: "form fields", form: []formPart{{name: "pass_threshold", data: []byte("0.55")}, {name: "reject_threshold", data: []byte(" 0.8 ")}}, decision: "PASS", pass: 0.55, rejectTh: 0.8},
		{name: "form reject only", form: []formPart{{name: "reject_threshold", data: []byte("0.5")}}, decision: "REJECT", pass: 0.40, rejectTh: 0.5},
		{name: "query with multipart", query: "?reject_threshold=0.5", decision: "REJECT", pass: 0.40, rejectTh: 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.raw {
				r = do(t, http.MethodPost, ts.url+"/api/predict"+c.query, "image/png", grey, auth...)
			} else {
				body, ct := formBody(t, append([]formPart{{name: "image", filename: "g.png", data: grey}}, c.form...)...)
				r = do(t, http.MethodPost, ts.url+"/api/predict"+c.query, ct, body, auth...)
			}
			p := decodePrediction(t, r)
			if p.Decision.String() != c.decision || p.Thresholds != (verdict.Thresholds{Pass: c.pass, Reject: c.rejectTh}) {
				t.Errorf("decision %s thresholds %+v, want %s {%v %v}", p.Decision, p.Thresholds, c.decision, c.pass, c.rejectTh)
			}
			if c.raw && p.Path != "upload" {
				t.Errorf("path %q for a raw body, want upload", p.Path)
			}
		})
	}
}

func TestPredictJPEGDemoStrip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "clean-1.jpg"))
	if err != nil {
		t.Skipf("demo strip not available: %v", err)
	}
	ts := start(t, Config{})
	p := decodePrediction(t, do(t, http.MethodPost, ts.url+"/api/predict", "image/jpeg", data))
	if p.Image.Format != "jpeg" || len(p.Patches) != 12 || p.Decision.IsZero() {
		t.Errorf("image %+v, %d patches, decision %q", p.Image, len(p.Patches), p.Decision)
	}
}

func TestModelEndpoint(t *testing.T) {
	ts := start(t, Config{Version: "1.2.3"})
	r := do(t, http.MethodGet, ts.url+"/api/model", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var info struct {
		Model             verdict.ModelIdentity `json:"model"`
		Source            string                `json:"source"`
		DefaultThresholds verdict.Thresholds    `json:"default_thresholds"`
		Manifest          inference.Manifest    `json:"manifest"`
		Runtime           struct {
			Version string `json:"onnxruntime_version"`
		} `json:"runtime"`
		Limits struct {
			MaxBodyBytes int64 `json:"max_body_bytes"`
			MaxPixels    int64 `json:"max_pixels"`
			QueueSize    int   `json:"queue_size"`
		} `json:"limits"`
		AppVersion string `json:"app_version"`
	}
	r.json(t, &info)
	want := ts.engine.Manifest()
	if info.Model != want.Identity() || info.Manifest.Name != want.Name || info.Manifest.Input != want.Input ||
		info.Manifest.SHA256 != want.SHA256 || info.DefaultThresholds != want.DefaultThresholds {
		t.Errorf("model info %+v", info)
	}
	if info.Runtime.Version == "" || info.Source == "" || info.AppVersion != "1.2.3" {
		t.Errorf("runtime %q source %q app %q", info.Runtime.Version, info.Source, info.AppVersion)
	}
	if info.Limits.MaxBodyBytes != DefaultMaxBodyBytes || info.Limits.MaxPixels != DefaultMaxPixels || info.Limits.QueueSize != DefaultQueueSize {
		t.Errorf("limits %+v", info.Limits)
	}
}

func TestHealthz(t *testing.T) {
	ts := start(t, Config{})
	r := do(t, http.MethodGet, ts.url+"/healthz", "", nil)
	var h struct {
		Status        string                `json:"status"`
		Model         verdict.ModelIdentity `json:"model"`
		QueueCapacity int                   `json:"queue_capacity"`
	}
	r.json(t, &h)
	if r.status != http.StatusOK || h.Status != "ok" || h.Model.Name != "tiny-nchw" || h.QueueCapacity != DefaultQueueSize {
		t.Errorf("status %d health %+v", r.status, h)
	}
	if r := do(t, http.MethodHead, ts.url+"/healthz", "", nil); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD /healthz: %d %q", r.status, r.body)
	}
}

func TestTokenAuth(t *testing.T) {
	ts := start(t, Config{Token: "s3cret-token"})
	img := blackStrip(t)
	body, ct := formBody(t, formPart{name: "image", filename: "a.png", data: img})
	for _, c := range []struct {
		name, auth string
		invalid    bool
	}{
		{name: "missing"},
		{name: "wrong", auth: "Bearer s3cret-tokeN", invalid: true},
		{name: "prefix of the token", auth: "Bearer s3cret", invalid: true},
		{name: "longer than the token", auth: "Bearer s3cret-token-and-more", invalid: true},
		{name: "basic scheme", auth: "Basic czNjcmV0LXRva2Vu"},
		{name: "no token after scheme", auth: "Bearer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/predict", "/api/model", "/metrics", "/api/openapi.json"} {
				method := http.MethodGet
				if path == "/api/predict" {
					method = http.MethodPost
				}
				var hdr []string
				if c.auth != "" {
					hdr = []string{"Authorization", c.auth}
				}
				r := do(t, method, ts.url+path, ct, body, hdr...)
				if r.status != http.StatusUnauthorized {
					t.Fatalf("%s: status %d, want 401: %s", path, r.status, r.body)
				}
				var e errorBody
				r.json(t, &e)
				www := r.header.Get("WWW-Authenticate")
				if e.Error == "" || !strings.HasPrefix(www, "Bearer") || strings.Contains(www, "invalid_token") != c.invalid {
					t.Errorf("%s: error %q, WWW-Authenticate %q", path, e.Error, www)
				}
			}
		})
	}
	if ts.engine.Runs() != 0 {
		t.Errorf("unauthorised requests ran the model %d times", ts.engine.Runs())
	}
	ok := []string{"Authorization", "Bearer s3cret-token"}
	if r := do(t, http.MethodPost, ts.url+"/api/predict", ct, body, ok...); r.status != http.StatusOK {
		t.Errorf("with the token: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, ts.url+"/api/model", "", nil, "Authorization", "bearer s3cret-token"); r.status != http.StatusOK {
		t.Errorf("lower-case scheme: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, ts.url+"/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("/healthz without token: %d, want 200 (it stays open)", r.status)
	}
}

// TestThresholdsNeedASupervisor: a request's own thresholds are refused
// (403) without a token and with an operator's; without thresholds an
// operator's request gets the station's; a 0.999999 pass threshold no
// longer auto-passes a defect.
func TestThresholdsNeedASupervisor(t *testing.T) {
	white := stripPNG(t, 0, 1600, 255) // every patch 1.0: REJECT
	open := start(t, Config{})
	if r := do(t, http.MethodPost, open.url+"/api/predict?pass_threshold=0.999999&reject_threshold=0.9999999", "image/png", white); r.status != http.StatusForbidden ||
		!strings.Contains(string(r.body), "supervisor") {
		t.Errorf("no token, own thresholds: %d %s", r.status, r.body)
	}
	ts := start(t, Config{Tokens: []Token{{"op", RoleOperator}, {"sup", RoleSupervisor}}})
	opAuth := []string{"Authorization", "Bearer op"}
	if r := do(t, http.MethodPost, ts.url+"/api/predict?pass_threshold=0.999999&reject_threshold=0.9999999", "image/png", white, opAuth...); r.status != http.StatusForbidden {
		t.Errorf("operator token, own thresholds: %d %s", r.status, r.body)
	}
	if p := decodePrediction(t, do(t, http.MethodPost, ts.url+"/api/predict", "image/png", white, opAuth...)); !p.Decision.Is(verdict.Reject) || p.Thresholds != (verdict.Thresholds{Pass: 0.4, Reject: 0.65}) {
		t.Errorf("operator token, station's thresholds: %s %+v", p.Decision, p.Thresholds)
	}
	if p := decodePrediction(t, do(t, http.MethodPost, ts.url+"/api/predict?reject_threshold=0.5", "image/png", white, "Authorization", "Bearer sup")); p.Thresholds.Reject != 0.5 {
		t.Errorf("supervisor token: thresholds %+v", p.Thresholds)
	}
	if ts.engine.Runs() != 2 || open.engine.Runs() != 0 {
		t.Errorf("refused requests ran the model: %d, %d", ts.engine.Runs(), open.engine.Runs())
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const op, sup, adm = "op-0123456789abcdef", "sup-0123456789abcdef", "adm-0123456789abcdef"
	if tok, err := ReadTokenFile(write("ok", "  "+op+"\n")); err != nil || len(tok) != 1 || tok[0] != (Token{op, RoleOperator}) {
		t.Errorf("got %v, %v; want %s as an operator's", tok, err, op)
	}
	toks, err := ReadTokenFile(write("roles", "# the line's tokens\noperator "+op+"\n\nSupervisor "+sup+"\nadmin "+adm+"\n"))
	if err != nil || fmt.Sprint(toks) != "[{"+op+" operator} {"+sup+" supervisor} {"+adm+" admin}]" {
		t.Errorf("roles: %v, %v", toks, err)
	}
	for name, content := range map[string]string{"empty": "", "blank": " \n\t\n", "three words": "abc def ghi\n",
		"unknown role": "boss " + op + "\n", "same token twice": op + "\nsupervisor " + op + "\n", "comments only": "# none\n"} {
		if _, err := ReadTokenFile(write(name, content)); err == nil {
			t.Errorf("%s token file accepted", name)
		}
	}
	// a short token, or a file others can read, is refused with its reason
	// (issue 30: a 0644 file and a 5-character token were accepted)
	if _, err := ReadTokenFile(write("short", "supervisor abcde\n")); err == nil || !strings.Contains(err.Error(), "a token of 5 characters is too easy to guess") {
		t.Errorf("a 5-character token: %v", err)
	}
	open := write("open", op+"\n")
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTokenFile(open); err == nil || !strings.Contains(err.Error(), "can be read by others than its owner (mode 0644)") {
		t.Errorf("a 0644 token file: %v", err)
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing token file accepted")
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.2:80": true, "localhost:8080": true, "[::1]:8080": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.20:8080": false,
		"10.0.0.1:80": false, "example.com:80": false,
	} {
		got, err := IsLoopbackAddr(addr)
		if err != nil || got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if _, err := IsLoopbackAddr("8080"); err == nil {
		t.Error("address without a port accepted")
	}
}

func TestRequestLogOneLinePerRequest(t *testing.T) {
	ts := start(t, Config{})
	predictForm(t, ts.url, blackStrip(t))
	do(t, http.MethodGet, ts.url+"/no/such%0Apath", "", nil)
	do(t, http.MethodGet, ts.url+"/healthz", "", nil)
	// A line is written just after its response; wait for the last one.
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if lines = strings.Split(strings.TrimSpace(ts.log.String()), "\n"); len(lines) >= 3 {
			break
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 requests:\n%s", len(lines), ts.log.String())
	}
	for _, want := range []string{"POST /api/predict 200 ", `GET "/no/such\npath" 404 `, "GET /healthz 200 "} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want) && strings.Contains(l, "ms id=")
		}
		if !found {
			t.Errorf("no log line contains %q, the time in ms and the id:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestPanicIsRecovered(t *testing.T) {
	logs := &syncBuffer{}
	s, err := New(openEngine(t), Config{Log: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.observe(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	var e errorBody
	if rec.Code != http.StatusInternalServerError || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
		t.Errorf("status %d body %q, want 500 with a JSON error", rec.Code, rec.Body)
	}
	if l := logs.String(); !strings.Contains(l, "panic serving GET /x: boom") || !strings.Contains(l, "GET /x 500") {
		t.Errorf("log does not show the panic and the 500:\n%s", l)
	}
}

func TestPredictRecordsInAuditTrail(t *testing.T) {
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e := openEngine(t)
	ts := startOn(t, e, Config{Station: station.FromParts(store, nil, e)})
	resp := predictForm(t, ts.url, whiteStrip(t))
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	p := decodePrediction(t, resp)
	rows, err := store.History(context.Background(), audit.Query{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("audit rows %v %d", err, len(rows))
	}
	r := rows[0]
	if r.Source != "api" || r.AutoDecision != verdict.Reject || r.SHA256 != p.Image.SHA256 || !strings.Contains(r.Path, p.RequestID) {
		t.Errorf("audit row %+v for response %+v", r, p)
	}
	// A refused request leaves no trace.
	predictForm(t, ts.url, []byte("not an image"))
	if rows, _ := store.History(context.Background(), audit.Query{}); len(rows) != 1 {
		t.Errorf("%d rows after a refused request", len(rows))
	}
}
