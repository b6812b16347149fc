package server

import (
	"bufio"
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)`)
	metaLine   = regexp.MustCompile(`^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$`)
)

// parseExposition checks text against the Prometheus text format (0.0.4)
// as far as this server uses it and returns the samples by their series
// ("name{labels}" as written).
func parseExposition(t *testing.T, text []byte) map[string]float64 {
	t.Helper()
	types := map[string]string{}
	samples := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			m := metaLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %d: malformed comment %q", n, line)
			}
			if m[1] == "TYPE" {
				if _, dup := types[m[2]]; dup {
					t.Errorf("line %d: TYPE of %s given twice", n, m[2])
				}
				types[m[2]] = m[3]
			}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d: malformed sample %q", n, line)
		}
		for rest := m[3]; rest != ""; {
			p := labelPair.FindStringSubmatch(rest)
			if p == nil {
				t.Fatalf("line %d: malformed labels %q", n, m[3])
			}
			rest = rest[len(p[0]):]
		}
		family := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base := strings.TrimSuffix(family, suffix); base != family && types[base] == "histogram" {
				family = base
			}
		}
		if types[family] == "" {
			t.Errorf("line %d: sample of %s before its TYPE", n, family)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Errorf("line %d: value %q: %v", n, m[4], err)
		}
		series := m[1] + m[2]
		if _, dup := samples[series]; dup {
			t.Errorf("line %d: series %s twice", n, series)
		}
		samples[series] = v
	}
	return samples
}

// checkHistogram checks that a histogram's buckets are cumulative and end
// in +Inf equal to its count; labels are the series' other labels with a
// trailing comma ("" for none).
func checkHistogram(t *testing.T, s map[string]float64, name, labels string) (count float64) {
	t.Helper()
	prev := -1.0
	found := false
	for _, b := range append(append([]float64{}, latencyBuckets...), batchBuckets...) {
		v, ok := s[name+"_bucket{"+labels+`le="`+formatFloat(b)+`"}`]
		if !ok {
			continue
		}
		found = true
		if v < prev {
			t.Errorf("%s: bucket le=%v has %v, below the previous %v", name, b, v, prev)
		}
		prev = v
	}
	inf, ok := s[name+"_bucket{"+labels+`le="+Inf"}`]
	braces := ""
	if labels != "" {
		braces = "{" + strings.TrimSuffix(labels, ",") + "}"
	}
	count = s[name+"_count"+braces]
	if !found || !ok || inf != count || inf < prev {
		t.Errorf("%s{%s}: buckets found %v, +Inf %v, count %v", name, labels, found, inf, count)
	}
	return count
}

func TestMetrics(t *testing.T) {
	ts := start(t, Config{})
	decodePrediction(t, predictForm(t, ts.url, blackStrip(t)))
	decodePrediction(t, predictForm(t, ts.url, blackStrip(t)))
	decodePrediction(t, predictForm(t, ts.url, whiteStrip(t)))
	do(t, http.MethodPost, ts.url+"/api/predict", "image/png", []byte("not an image"))
	do(t, http.MethodPost, ts.url+"/api/predict?pass_threshold=2", "image/png", blackStrip(t))
	do(t, http.MethodGet, ts.url+"/nowhere", "", nil)
	do(t, "BREW", ts.url+"/healthz", "", nil)

	r := do(t, http.MethodGet, ts.url+"/metrics", "", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("status %d Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	s := parseExposition(t, r.body)
	for series, want := range map[string]float64{
		`steelinspect_http_requests_total{route="/api/predict",method="POST",code="200"}`:                                   3,
		`steelinspect_http_requests_total{route="/api/predict",method="POST",code="415"}`:                                   1,
		`steelinspect_http_requests_total{route="/api/predict",method="POST",code="400"}`:                                   1,
		`steelinspect_http_requests_total{route="other",method="GET",code="404"}`:                                           1,
		`steelinspect_http_requests_total{route="/healthz",method="other",code="405"}`:                                      1,
		`steelinspect_decisions_total{decision="PASS"}`:                                                                     2,
		`steelinspect_decisions_total{decision="REVIEW"}`:                                                                   0,
		`steelinspect_decisions_total{decision="REJECT"}`:                                                                   1,
		`steelinspect_errors_total{reason="unsupported_media_type"}`:                                                        1,
		`steelinspect_errors_total{reason="bad_request"}`:                                                                   1,
		`steelinspect_errors_total{reason="not_found"}`:                                                                     1,
		`steelinspect_errors_total{reason="method_not_allowed"}`:                                                            1,
		`steelinspect_panics_total`:                                                                                         0,
		`steelinspect_engine_runs_total`:                                                                                    3,
		`steelinspect_queue_length`:                                                                                         0,
		`steelinspect_queue_capacity`:                                                                                       DefaultQueueSize,
		`steelinspect_http_requests_in_flight`:                                                                              1, // this scrape
		`steelinspect_model_info{name="tiny-nchw",version="0.0.1",sha256="` + ts.engine.Manifest().Identity().SHA256 + `"}`: 1,
	} {
		if got, ok := s[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if n := checkHistogram(t, s, "steelinspect_inference_duration_seconds", ""); n != 3 {
		t.Errorf("inference histogram counts %v engine calls, want 3", n)
	}
	if n := checkHistogram(t, s, "steelinspect_batch_images", ""); n != 3 {
		t.Errorf("batch histogram counts %v, want 3", n)
	}
	if n := checkHistogram(t, s, "steelinspect_http_request_duration_seconds", `route="/api/predict",`); n != 5 {
		t.Errorf("predict duration histogram counts %v, want 5", n)
	}
}

func TestQuoteLabel(t *testing.T) {
	if got := quoteLabel("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Errorf("quoteLabel = %s", got)
	}
}
