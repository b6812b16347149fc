package server

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"steelinspect/verdict"
)

// metrics are the counters /metrics exposes in the Prometheus text format
// (version 0.0.4), kept and written by hand: the server needs no client
// library for a dozen series.
type metrics struct {
	inflight atomic.Int64

	mu        sync.Mutex
	requests  map[requestKey]uint64
	durations map[string]*histogram // by route
	decisions [3]uint64             // by verdict.Decision
	errors    map[string]uint64     // by reason
	panics    uint64
	inference *histogram // seconds per engine call
	batchSize *histogram // images per engine call
}

type requestKey struct {
	route, method string
	code          int
}

var (
	latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	batchBuckets   = []float64{1, 2, 4, 8, 16, 32, 64}
)

func newMetrics() *metrics {
	return &metrics{
		requests:  map[requestKey]uint64{},
		durations: map[string]*histogram{},
		errors:    map[string]uint64{},
		inference: newHistogram(latencyBuckets),
		batchSize: newHistogram(batchBuckets),
	}
}

// histogram counts observations per upper bound (not yet cumulative).
type histogram struct {
	bounds []float64
	counts []uint64 // one per bound, plus +Inf
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.counts[i]++
	h.sum += v
	h.count++
}

// knownMethods keeps the method label's values few whatever clients send.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

func (m *metrics) request(route, method string, code int, elapsed time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{route, method, code}]++
	h, ok := m.durations[route]
	if !ok {
		h = newHistogram(latencyBuckets)
		m.durations[route] = h
	}
	h.observe(elapsed.Seconds())
}

// errorReasons name the error statuses in steelinspect_errors_total.
var errorReasons = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "unprocessable_image",
	http.StatusInternalServerError:   "internal",
	http.StatusServiceUnavailable:    "unavailable",
}

func (m *metrics) failure(status int) {
	reason, ok := errorReasons[status]
	if !ok {
		reason = "other"
	}
	m.mu.Lock()
	m.errors[reason]++
	m.mu.Unlock()
}

func (m *metrics) decision(d verdict.Decision) {
	m.mu.Lock()
	if d >= 0 && int(d) < len(m.decisions) {
		m.decisions[d]++
	}
	m.mu.Unlock()
}

func (m *metrics) panic() {
	m.mu.Lock()
	m.panics++
	m.mu.Unlock()
}

func (m *metrics) batch(images int, elapsed time.Duration) {
	m.mu.Lock()
	m.inference.observe(elapsed.Seconds())
	m.batchSize.observe(float64(images))
	m.mu.Unlock()
}

// gauges are the values read at scrape time.
type gauges struct {
	queueLength, queueCapacity int
	engineRuns                 int64
	model                      verdict.ModelIdentity
}

func (m *metrics) write(out io.Writer, g gauges) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	family := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	m.mu.Lock()
	defer m.mu.Unlock()

	family("steelinspect_http_requests_total", "counter", "HTTP requests answered, by route, method and status code.")
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.code < b.code
	})
	for _, k := range keys {
		fmt.Fprintf(w, "steelinspect_http_requests_total{route=%s,method=%s,code=\"%d\"} %d\n",
			quoteLabel(k.route), quoteLabel(k.method), k.code, m.requests[k])
	}

	family("steelinspect_http_request_duration_seconds", "histogram", "Time to answer an HTTP request, by route.")
	routes := make([]string, 0, len(m.durations))
	for r := range m.durations {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		writeHistogram(w, "steelinspect_http_request_duration_seconds", "route="+quoteLabel(r), m.durations[r])
	}

	family("steelinspect_http_requests_in_flight", "gauge", "HTTP requests being answered now.")
	fmt.Fprintf(w, "steelinspect_http_requests_in_flight %d\n", m.inflight.Load())

	family("steelinspect_decisions_total", "counter", "Strip decisions returned by /api/predict, by decision.")
	for d := verdict.Pass; d <= verdict.Reject; d++ {
		fmt.Fprintf(w, "steelinspect_decisions_total{decision=%q} %d\n", d.String(), m.decisions[d])
	}

	family("steelinspect_errors_total", "counter", "Error responses, by reason.")
	reasons := make([]string, 0, len(m.errors))
	for r := range m.errors {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "steelinspect_errors_total{reason=%s} %d\n", quoteLabel(r), m.errors[r])
	}

	family("steelinspect_panics_total", "counter", "Panics recovered in handlers or the engine worker.")
	fmt.Fprintf(w, "steelinspect_panics_total %d\n", m.panics)

	family("steelinspect_inference_duration_seconds", "histogram", "Time of one engine call (decoding and model runs for a batch of images).")
	writeHistogram(w, "steelinspect_inference_duration_seconds", "", m.inference)

	family("steelinspect_batch_images", "histogram", "Images scored together in one engine call.")
	writeHistogram(w, "steelinspect_batch_images", "", m.batchSize)

	family("steelinspect_engine_runs_total", "counter", "ONNX Runtime runs (one run scores up to the engine's batch of patches).")
	fmt.Fprintf(w, "steelinspect_engine_runs_total %d\n", g.engineRuns)

	family("steelinspect_queue_length", "gauge", "Requests waiting for the model.")
	fmt.Fprintf(w, "steelinspect_queue_length %d\n", g.queueLength)
	family("steelinspect_queue_capacity", "gauge", "Requests that may wait before the server answers 503.")
	fmt.Fprintf(w, "steelinspect_queue_capacity %d\n", g.queueCapacity)

	family("steelinspect_model_info", "gauge", "The model being served (always 1).")
	fmt.Fprintf(w, "steelinspect_model_info{name=%s,version=%s,sha256=%s} 1\n",
		quoteLabel(g.model.Name), quoteLabel(g.model.Version), quoteLabel(g.model.SHA256))
}

func writeHistogram(w io.Writer, name, labels string, h *histogram) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%s\"} %d\n", name, labels, sep, formatFloat(b), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, cum)
	braces := ""
	if labels != "" {
		braces = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %s\n", name, braces, formatFloat(h.sum))
	fmt.Fprintf(w, "%s_count%s %d\n", name, braces, h.count)
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// quoteLabel writes a label value with the exposition format's escapes
// (backslash, double quote, line feed).
func quoteLabel(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}
