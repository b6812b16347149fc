package opcuaout

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeOPCUAVersion is the independent client the tests drive
// (node-opcua-client from the npm registry).
const nodeOPCUAVersion = "2.182.2"

// nodeClient installs node-opcua-client once into the git-ignored
// .cache folder of the checkout and returns the folder to run node in.
func nodeClient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make test installs Debian's npm, which brings node)", tool)
		}
	}
	dir, err := filepath.Abs(filepath.Join("..", ".cache", "node-opcua-"+nodeOPCUAVersion))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "node-opcua-client", "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir, "node-opcua-client@"+nodeOPCUAVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install node-opcua-client: %v\n%s", err, out)
		}
	}
	script, err := os.ReadFile(filepath.Join("testdata", "client.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client.js"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPLCReadsResults: an independent client (node-opcua) browses to the
// station, reads the newest result and the counters, asks about one
// strip by calling GetResult, and has every write refused, the server
// still running after.
func TestPLCReadsResults(t *testing.T) {
	dir := nodeClient(t)
	store, st := newTrail(t)
	_, url := startLoopback(t, store)
	// a second server on the same port is refused when it listens
	port := strings.TrimPrefix(url, "opc.tcp://127.0.0.1:")
	if other, err := New(Config{Addr: port, Station: "line3", Store: store}); err != nil {
		t.Fatal(err)
	} else if err := other.Listen(context.Background()); err == nil || !strings.Contains(err.Error(), "opcua:") {
		t.Errorf("a second server on port %s: %v", port, err)
	}

	cmd := exec.Command("node", "client.js", url, "/cam/b.jpg")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	var got struct {
		Values  map[string]any `json:"values"`
		Call    map[string]any `json:"call"`
		Refused map[string]any `json:"refused"`
		Objects []string       `json:"objects"`
		After   string         `json:"stateAfter"`
	}
	line := ""
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "RESULT "); ok {
			line = rest
		}
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("client output %s: %v", out, err)
	}
	v := got.Values
	want := map[string]any{"SystemState": "Operational", "Station": "line3", "LastResult.ResultId": fmt.Sprint(st.reject), "LastResult.ResultState": 1.0,
		"LastResult.Decision": "REJECT", "LastResult.DecisionCode": 2.0, "LastResult.DefectScore": 0.93, "LastResult.Path": "/cam/c.jpg",
		"LastResult.RecipeId": "steel 4.0.0 abc", "Counters.Pass": 1.0, "Counters.Review": 0.0, "Counters.Reject": 2.0, "Counters.Total": 3.0}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %v, want %v", k, v[k], w)
		}
	}
	if ct, _ := v["LastResult.CreationTime"].(string); !strings.HasPrefix(ct, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("CreationTime %v", v["LastResult.CreationTime"])
	}
	q := got.Call
	if q["status"] != "Good" || q["Found"] != true || q["ResultId"] != fmt.Sprint(st.review) || q["Decision"] != "REJECT" ||
		q["DecisionCode"] != 2.0 || q["Path"] != "/cam/b.jpg" || q["wrongType"] != "BadInvalidArgument" || q["wrongTypeArg"] != "BadTypeMismatch" ||
		q["unknownFound"] != false {
		t.Errorf("GetResult for /cam/b.jpg: %v", q)
	}
	r := got.Refused
	if r["decision"] != "BadNotWritable" || r["decisionAfter"] != "REJECT" || r["unknownNamespace"] != "BadNodeIdUnknown" || r["method"] != "BadNotWritable" {
		t.Errorf("writes the server should refuse: %v", r)
	}
	if got.After != "Operational" {
		t.Errorf("state after the refused writes %q", got.After)
	}
	found := false
	for _, o := range got.Objects {
		found = found || o == "SteelInspect"
	}
	if !found {
		t.Errorf("SteelInspect not under Objects: %v", got.Objects)
	}
}
