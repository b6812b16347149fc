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

	"steelinspect/audit"
	"steelinspect/internal/testnet"
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
// strip by writing Query.RequestId, and has every other write refused,
// the server still running after.
func TestPLCReadsResults(t *testing.T) {
	dir := nodeClient(t)
	store, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	add := func(path, decision string, conf float64, cautions string) int64 {
		id, err := store.Add(ctx, audit.Inspection{Source: "watch", Path: path, SHA256: strings.Repeat("c", 64), Width: 1600, Height: 256,
			Bytes: 1, ModelName: "steel", ModelVersion: "4.0.0", ModelSHA256: "abc", PassThreshold: 0.4, RejectThreshold: 0.65,
			Confidence: conf, MeanProbability: conf / 2, AutoDecision: decision, Cautions: cautions})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	add("/cam/a.jpg", "PASS", 0.2, "")
	b := add("/cam/b.jpg", "REVIEW", 0.5, "unfamiliar strip: the model was not trained on strips like this")
	add("/cam/c.jpg", "REJECT", 0.93, "")
	if err := store.Review(ctx, b, "REJECT", "ana", ""); err != nil {
		t.Fatal(err)
	}
	port := testnet.FreePort(t)
	s, err := New(fmt.Sprintf("127.0.0.1:%d", port), "line3", store)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	if err := s.Listen(runCtx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.snapshotState() != Operational && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// a second server on the same port is refused when it listens
	if other, err := New(fmt.Sprintf("127.0.0.1:%d", port), "line3", store); err != nil {
		t.Fatal(err)
	} else if err := other.Listen(ctx); err == nil || !strings.Contains(err.Error(), "opcua:") {
		t.Errorf("a second server on port %d: %v", port, err)
	}

	cmd := exec.Command("node", "client.js", fmt.Sprintf("opc.tcp://127.0.0.1:%d", port), "/cam/b.jpg")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	var got struct {
		Values  map[string]any `json:"values"`
		Query   map[string]any `json:"query"`
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
	want := map[string]any{"SystemState": "Operational", "Station": "line3", "LastResult.ResultId": "3", "LastResult.ResultState": 1.0,
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
	q := got.Query
	if q["write"] != "Good" || q["Found"] != true || q["ResultId"] != "2" || q["Decision"] != "REJECT" || q["Path"] != "/cam/b.jpg" {
		t.Errorf("query for /cam/b.jpg: %v", q)
	}
	r := got.Refused
	if r["decision"] != "BadNotWritable" || r["decisionAfter"] != "REJECT" || r["unknownNamespace"] != "BadNotWritable" || r["wrongType"] != "BadTypeMismatch" {
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
