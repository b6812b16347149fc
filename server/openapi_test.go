package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks the served document against the server:
// every route the mux answers is documented with its method, every
// documented path and method is answered, and every $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ts := start(t, Config{Version: "9.9.9"})
	r := do(t, http.MethodGet, ts.url+"/api/openapi.json", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	var doc map[string]any
	r.json(t, &doc)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi %q, want 3.x", v)
	}
	if info, _ := doc["info"].(map[string]any); info["version"] != "9.9.9" {
		t.Errorf("info.version %v, want the app version", info["version"])
	}
	if _, ok := doc["security"]; ok {
		t.Error("document asks for a token the server does not require")
	}

	documented := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range ts.routes {
		served[rt.method+" "+rt.path] = true
	}
	if got, want := keys(documented), keys(served); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("document has\n  %s\nthe route table has\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Ask the real mux: each documented path is routed (a wrong method is
	// 405, not 404), and is answered with the documented method.
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		wrong := http.MethodPatch
		if r := do(t, wrong, ts.url+path, "", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") == "" {
			t.Errorf("%s %s: status %d, want 405: the mux does not route this documented path", wrong, path, r.status)
		}
		if method == http.MethodGet {
			if r := do(t, method, ts.url+path, "", nil); r.status != http.StatusOK {
				t.Errorf("%s: status %d", op, r.status)
			}
		}
		responses := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)["responses"].(map[string]any)
		for _, code := range []string{"200", "405"} {
			if _, ok := responses[code]; !ok {
				t.Errorf("%s does not document %s", op, code)
			}
		}
	}
	predict := paths["/api/predict"].(map[string]any)["post"].(map[string]any)
	for _, code := range []string{"200", "400", "401", "405", "413", "415", "422", "500", "503"} {
		if _, ok := predict["responses"].(map[string]any)[code]; !ok {
			t.Errorf("POST /api/predict does not document %s", code)
		}
	}
	content := predict["requestBody"].(map[string]any)["content"].(map[string]any)
	for _, ct := range []string{"multipart/form-data", "image/png", "image/jpeg", "image/bmp", "image/tiff"} {
		if _, ok := content[ct]; !ok {
			t.Errorf("POST /api/predict does not document body %s", ct)
		}
	}
	checkRefs(t, doc, doc)
}

func TestOpenAPIShowsTokenWhenRequired(t *testing.T) {
	ts := start(t, Config{Token: "tok"})
	r := do(t, http.MethodGet, ts.url+"/api/openapi.json", "", nil, "Authorization", "Bearer tok")
	var doc map[string]any
	r.json(t, &doc)
	sec, _ := doc["security"].([]any)
	if len(sec) != 1 {
		t.Fatalf("security %v, want bearerAuth", doc["security"])
	}
	if _, ok := sec[0].(map[string]any)["bearerAuth"]; !ok {
		t.Errorf("security %v, want bearerAuth", sec)
	}
	health := doc["paths"].(map[string]any)["/healthz"].(map[string]any)["get"].(map[string]any)
	if s, ok := health["security"].([]any); !ok || len(s) != 0 {
		t.Errorf("/healthz security %v, want [] (open)", health["security"])
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkRefs resolves every local $ref in v against doc.
func checkRefs(t *testing.T, doc map[string]any, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if k == "$ref" {
				ref, _ := child.(string)
				if !resolves(doc, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
				continue
			}
			checkRefs(t, doc, child)
		}
	case []any:
		for _, child := range x {
			checkRefs(t, doc, child)
		}
	}
}

func resolves(doc map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIEmbeddedIsValidJSON keeps a broken edit of openapi.json from
// reaching New's error path unnoticed.
func TestOpenAPIEmbeddedIsValidJSON(t *testing.T) {
	var v any
	if err := json.Unmarshal(openAPISpec, &v); err != nil {
		t.Fatal(err)
	}
}
