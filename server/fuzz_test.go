package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzPredictRequest feeds arbitrary bodies, content types and queries to
// POST /api/predict: every answer must be a documented status with a JSON
// body, and nothing may panic (the recover middleware would hide a panic
// from the client, so the panic counter is checked too).
func FuzzPredictRequest(f *testing.F) {
	png := blackStrip(f)
	form, formCT := formBody(f, formPart{name: "image", filename: "a.png", data: png}, formPart{name: "pass_threshold", data: []byte("0.3")})
	f.Add("image/png", "", png)
	f.Add("image/png", "pass_threshold=0.2&reject_threshold=0.9", png[:len(png)/2])
	f.Add("image/jpeg", "", []byte("\xff\xd8\xff\xe0garbage"))
	f.Add(formCT, "", form)
	f.Add(formCT, "reject_threshold=0.5", form[:len(form)/2])
	f.Add("multipart/form-data; boundary=x", "", []byte("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nhi\r\n--x--\r\n"))
	f.Add("text/plain", "a=b", []byte("hello"))
	f.Add("image/png", "", pngHeaderOnly(60000, 60000))

	e, err := openFuzzEngine()
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	s, err := New(e, Config{MaxBodyBytes: 4 << 20, Tokens: []Token{{"sup", RoleSupervisor}}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	allowed := map[int]bool{200: true, 400: true, 413: true, 415: true, 422: true}

	f.Fuzz(func(t *testing.T, contentType, query string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/predict", bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer sup") // a supervisor's: the thresholds are read too
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("status %d, body not JSON: %v", rec.Code, err)
		}
		if _, isErr := v["error"]; isErr == (rec.Code == 200) {
			t.Fatalf("status %d with body %s", rec.Code, rec.Body)
		}
		s.metrics.mu.Lock()
		panics := s.metrics.panics
		s.metrics.mu.Unlock()
		if panics != 0 {
			t.Fatal("a handler panicked")
		}
	})
}
