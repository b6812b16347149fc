// Command loadtest sends a bounded number of POST /api/predict requests to
// a running `steelinspect serve` from several concurrent clients and
// reports what came back: totals, errors by status, lost requests, latency
// percentiles, throughput, the server's batching (from its /metrics) and,
// given --pid, the server's resident memory before and after.
//
//	go run ./tools/loadtest --image assets/demo/clean-1.jpg --clients 32 --requests 2000 --pid $(pgrep -n steelinspect)
//
// It stops by itself after --requests requests or --max-duration, whichever
// comes first. It talks only to loopback addresses unless --allow-remote.
// Exit status: 0 when every request got an answer and every answer was 200
// or 503 (busy, which is the server's documented back-pressure); 1 otherwise;
// 2 for a wrong command line.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	url         string
	clients     int
	requests    int
	image       string
	mode        string
	timeout     time.Duration
	maxDuration time.Duration
	pid         int
	tokenFile   string
	allowRemote bool
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080/api/predict", "predict endpoint")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.IntVar(&o.requests, "requests", 2000, "requests in all")
	flag.StringVar(&o.image, "image", "assets/demo/clean-1.jpg", "strip image `file` to send (1600×256)")
	flag.StringVar(&o.mode, "mode", "multipart", "request body: multipart (form field image) or raw (Content-Type image/*)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	flag.DurationVar(&o.maxDuration, "max-duration", 5*time.Minute, "stop sending after this long even if requests remain")
	flag.IntVar(&o.pid, "pid", 0, "server process id: report its resident memory (VmRSS) before, at peak and after")
	flag.StringVar(&o.tokenFile, "token-file", "", "send the bearer token in this `file`")
	flag.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback --url")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var (
	errUsage  = errors.New("usage")
	errFailed = errors.New("some requests were lost or failed")
)

// outcome is one request's result.
type outcome struct {
	status   int // 0: no HTTP answer (lost)
	latency  time.Duration
	decision string
	err      string
}

// Cyclomatic complexity above 15, kept: a developer tool's main loop, flags and refusals in order.
//
//gocyclo:ignore
func run(o options, out io.Writer) error {
	if o.clients < 1 || o.requests < 1 || o.timeout <= 0 || o.maxDuration <= 0 {
		return fmt.Errorf("%w: --clients, --requests, --timeout and --max-duration must be positive", errUsage)
	}
	target, err := url.Parse(o.url)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return fmt.Errorf("%w: --url %q is not an http(s) URL", errUsage, o.url)
	}
	if !o.allowRemote && !isLoopbackHost(target.Hostname()) {
		return fmt.Errorf("%w: --url %s is not a loopback address (give --allow-remote to load-test another machine)", errUsage, o.url)
	}
	img, err := os.ReadFile(o.image)
	if err != nil {
		return fmt.Errorf("%w: --image: %v", errUsage, err)
	}
	body, contentType, err := requestBody(o.mode, o.image, img)
	if err != nil {
		return err
	}
	token := ""
	if o.tokenFile != "" {
		raw, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("%w: --token-file: %v", errUsage, err)
		}
		token = strings.TrimSpace(string(raw))
	}

	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			Proxy:               nil, // never through a proxy: the target is local
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        o.clients,
			MaxIdleConnsPerHost: o.clients,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	metricsURL := *target
	metricsURL.Path, metricsURL.RawQuery = "/metrics", ""
	before := scrape(client, metricsURL.String(), token)

	var mem memSampler
	if o.pid > 0 {
		if err := mem.start(o.pid); err != nil {
			return fmt.Errorf("%w: --pid: %v", errUsage, err)
		}
	}

	fmt.Fprintf(out, "loadtest: %d requests, %d clients, %s (%d bytes, %s) -> %s\n",
		o.requests, o.clients, filepath.Base(o.image), len(img), o.mode, o.url)
	ctx, cancel := context.WithTimeout(context.Background(), o.maxDuration)
	defer cancel()
	var next atomic.Int64
	results := make([][]outcome, o.clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.requests) && ctx.Err() == nil {
				results[c] = append(results[c], send(ctx, client, o.url, contentType, body, token))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	stoppedEarly := ctx.Err() != nil
	after := scrape(client, metricsURL.String(), token)
	memReport := mem.stop()

	var all []outcome
	for _, r := range results {
		all = append(all, r...)
	}
	return report(out, o, all, wall, stoppedEarly, before, after, memReport)
}

func requestBody(mode, path string, img []byte) ([]byte, string, error) {
	switch mode {
	case "raw":
		ct := map[string]string{".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
			".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}[strings.ToLower(filepath.Ext(path))]
		if ct == "" {
			ct = "image/jpeg"
		}
		return img, ct, nil
	case "multipart":
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, err := mw.CreateFormFile("image", filepath.Base(path))
		if err != nil {
			return nil, "", err
		}
		w.Write(img)
		if err := mw.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), mw.FormDataContentType(), nil
	}
	return nil, "", fmt.Errorf("%w: --mode %q is not multipart or raw", errUsage, mode)
}

func send(ctx context.Context, client *http.Client, target, contentType string, body []byte, token string) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return outcome{err: err.Error()}
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outcome{latency: time.Since(t0), err: err.Error()}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o := outcome{status: resp.StatusCode, latency: time.Since(t0)}
	if err != nil {
		return outcome{latency: o.latency, err: "reading the answer: " + err.Error()}
	}
	if resp.StatusCode == http.StatusOK {
		var p struct {
			Decision string            `json:"decision"`
			Patches  []json.RawMessage `json:"patches"`
		}
		if json.Unmarshal(data, &p) != nil || p.Decision == "" || len(p.Patches) == 0 {
			o.err = "200 without a decision and patches"
		}
		o.decision = p.Decision
	}
	return o
}

// Cyclomatic complexity above 15, kept: a developer tool's summary, one line per figure.
//
//gocyclo:ignore
func report(out io.Writer, o options, all []outcome, wall time.Duration, stoppedEarly bool, before, after map[string]float64, mem memReport) error {
	byStatus := map[int]int{}
	decisions := map[string]int{}
	lostReasons := map[string]int{}
	var okLatencies, allLatencies []time.Duration
	lost, malformed := 0, 0
	for _, r := range all {
		if r.status == 0 {
			lost++
			lostReasons[shorten(r.err)]++
			continue
		}
		byStatus[r.status]++
		allLatencies = append(allLatencies, r.latency)
		if r.status == http.StatusOK {
			if r.err != "" {
				malformed++
			}
			okLatencies = append(okLatencies, r.latency)
			decisions[r.decision]++
		}
	}
	answered := len(all) - lost
	fmt.Fprintf(out, "\nsent %d of %d requests in %.2fs", len(all), o.requests, wall.Seconds())
	if stoppedEarly {
		fmt.Fprintf(out, " (stopped by --max-duration %s)", o.maxDuration)
	}
	fmt.Fprintf(out, "\nanswered %d, lost %d (no HTTP answer)\n", answered, lost)
	for _, reason := range sortedKeys(lostReasons) {
		fmt.Fprintf(out, "  lost: %dx %s\n", lostReasons[reason], reason)
	}
	fmt.Fprintf(out, "by status:")
	for _, code := range sortedInts(byStatus) {
		fmt.Fprintf(out, " %d: %d", code, byStatus[code])
	}
	errs := answered - byStatus[http.StatusOK]
	fmt.Fprintf(out, "\nerrors (non-200 answers): %d; 200 answers without a decision: %d\n", errs, malformed)
	fmt.Fprintf(out, "decisions:")
	for _, d := range sortedKeys(decisions) {
		fmt.Fprintf(out, " %s %d", d, decisions[d])
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "throughput: %.1f answered req/s, %.1f successful req/s\n",
		float64(answered)/wall.Seconds(), float64(byStatus[http.StatusOK])/wall.Seconds())
	printLatency(out, "latency of 200 answers", okLatencies)
	printLatency(out, "latency of all answers", allLatencies)

	if before != nil && after != nil {
		calls := after["steelinspect_batch_images_count"] - before["steelinspect_batch_images_count"]
		images := after["steelinspect_batch_images_sum"] - before["steelinspect_batch_images_sum"]
		runs := after["steelinspect_engine_runs_total"] - before["steelinspect_engine_runs_total"]
		if calls > 0 {
			fmt.Fprintf(out, "server batching: %.0f images in %.0f engine calls (%.2f images per call), %.0f ONNX Runtime runs\n",
				images, calls, images/calls, runs)
		}
	} else {
		fmt.Fprintln(out, "server batching: n/a (could not read /metrics)")
	}
	if o.pid > 0 {
		fmt.Fprintf(out, "server memory (pid %d): VmRSS before %s, peak sampled %s, after %s; VmHWM after %s\n",
			o.pid, kb(mem.before), kb(mem.peak), kb(mem.after), kb(mem.hwm))
	}
	if lost > 0 || malformed > 0 || answered-byStatus[http.StatusOK]-byStatus[http.StatusServiceUnavailable] > 0 {
		return errFailed
	}
	return nil
}

func printLatency(out io.Writer, what string, l []time.Duration) {
	if len(l) == 0 {
		fmt.Fprintf(out, "%s: none\n", what)
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	p := func(q float64) string {
		i := int(q*float64(len(l))+0.5) - 1 // nearest rank
		i = min(max(i, 0), len(l)-1)
		return msString(l[i])
	}
	fmt.Fprintf(out, "%s (ms): p50 %s  p95 %s  p99 %s  max %s  (n=%d)\n", what, p(0.50), p(0.95), p(0.99), msString(l[len(l)-1]), len(l))
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

// scrape reads the server's /metrics into series → value; nil when it
// cannot (an older server, or metrics behind a token we lack).
func scrape(client *http.Client, target, token string) map[string]float64 {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			values[line[:i]] = v
		}
	}
	return values
}

// memSampler samples a process's VmRSS every 100 ms for the peak.
type memSampler struct {
	pid  int
	rep  memReport
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
}

type memReport struct{ before, peak, after, hwm int64 } // kB; -1 unknown

func (m *memSampler) start(pid int) error {
	rss, _, err := readMem(pid)
	if err != nil {
		return err
	}
	m.pid, m.rep = pid, memReport{before: rss, peak: rss, after: -1, hwm: -1}
	m.done = make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-tick.C:
				if rss, _, err := readMem(pid); err == nil {
					m.mu.Lock()
					m.rep.peak = max(m.rep.peak, rss)
					m.mu.Unlock()
				}
			}
		}
	}()
	return nil
}

func (m *memSampler) stop() memReport {
	if m.done == nil {
		return memReport{-1, -1, -1, -1}
	}
	close(m.done)
	m.wg.Wait()
	if rss, hwm, err := readMem(m.pid); err == nil {
		m.rep.after, m.rep.hwm = rss, hwm
		m.rep.peak = max(m.rep.peak, rss)
	}
	return m.rep
}

// readMem reads VmRSS and VmHWM (kB) from /proc/PID/status.
func readMem(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	rss, hwm = -1, -1
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	if rss < 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rss, hwm, nil
}

func kb(v int64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(v)/1024)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shorten keeps error texts groupable: the URL and request details vary.
func shorten(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedInts(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
