package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"steelinspect/internal/testimg"
	"steelinspect/internal/testnet"
	"steelinspect/internal/testpg"
)

// TestAPIInstancesBehindALoadBalancer runs two real `steelinspect serve`
// processes on one trail in a real PostgreSQL (--db postgres://…), behind
// Debian's haproxy. Requests through the balancer reach both instances;
// every decision gets its own record in one hash chain that history
// verify --central finds intact; when one instance stops, the balancer
// sends everything to the other and nothing is lost or recorded twice.
func TestAPIInstancesBehindALoadBalancer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the application and starts PostgreSQL, two API instances and haproxy")
	}
	haproxy := findHAProxy(t)
	pg := testpg.Start(t)
	url := pg.URL(testpg.Password)
	bin := buildBinary(t)
	dir := t.TempDir()
	model := filepath.Join("testdata", "models", "tiny-nchw.manifest.json")

	addrs := []string{freeAddr(t), freeAddr(t)}
	var instances []*exec.Cmd
	for _, addr := range addrs {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--db", url, "--station", "api-3", "--line", "line 3", "--model", model)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"))
		startLogged(t, cmd, "serve "+addr)
		instances = append(instances, cmd)
		waitHealthy(t, "http://"+addr+"/healthz")
	}
	lb := freeAddr(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`defaults
	mode http
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	retries 3
	option redispatch 1
frontend api
	bind %s
	default_backend steelinspect
backend steelinspect
	balance roundrobin
	option httpchk GET /healthz
	server a %s check inter 300ms fall 2 rise 1
	server b %s check inter 300ms fall 2 rise 1
`, lb, addrs[0], addrs[1])), 0o644)
	startLogged(t, exec.Command(haproxy, "-db", "-f", cfg), "haproxy")
	waitHealthy(t, "http://"+lb+"/healthz")

	ids := predictThrough(t, lb, 24, 4)
	for i, addr := range addrs {
		if n := decisionsServed(t, addr); n == 0 {
			t.Errorf("instance %d (%s) served no request: the balancer did not spread the load", i+1, addr)
		}
	}
	// One instance goes away (a redeploy, a crash): the other takes all.
	instances[0].Process.Signal(syscall.SIGTERM)
	instances[0].Wait()
	ids = append(ids, predictThrough(t, lb, 8, 2)...)

	slices.Sort(ids)
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("audit ids %v: want 1 to %d, each once (one chain, no record lost or doubled)", ids, len(ids))
		}
	}
	out, err := exec.Command(bin, "history", "verify", "--central", url, "--station", "api-3").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit trail intact") || !strings.Contains(string(out), "32 entries (32 inspections") {
		t.Errorf("history verify --central: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "history", "--central", url, "--line", "line 3", "--format", "jsonl").Output()
	if err != nil {
		t.Fatalf("history --central --line: %v", err)
	}
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(rows) != 32 || !strings.Contains(rows[0], `"station":"api-3"`) || !strings.Contains(rows[0], `"source":"api"`) {
		t.Errorf("history --central --line: %d rows, first %s", len(rows), rows[0])
	}
}

// findHAProxy finds Debian's haproxy (in /usr/sbin, off a user's PATH).
func findHAProxy(t *testing.T) string {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("haproxy is missing; make test installs it")
	}
	t.Skip("haproxy not installed (make test installs Debian's haproxy)")
	return ""
}

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t)) }

// startLogged starts cmd, stops it when the test ends, and shows what it
// printed when the test fails.
func startLogged(t *testing.T, cmd *exec.Cmd, name string) {
	var log bytes.Buffer
	var mu sync.Mutex
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	pw.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("%s printed:\n%s", name, log.String())
			mu.Unlock()
		}
	})
}

func waitHealthy(t *testing.T, url string) {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after a minute: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// predictThrough sends n strips to /api/predict at addr from workers
// clients at once; every answer must be a decision with its audit id.
func predictThrough(t *testing.T, addr string, n, workers int) []int64 {
	body := testimg.StripPNG(600, 700, 255)
	var mu sync.Mutex
	var ids []int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := http.Post("http://"+addr+"/api/predict", "image/png", bytes.NewReader(body))
				if err != nil {
					t.Errorf("predict: %v", err)
					continue
				}
				var p struct {
					AuditID  int64  `json:"audit_id"`
					Decision string `json:"decision"`
					Error    string `json:"error"`
				}
				err = json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || p.AuditID == 0 || p.Decision == "" {
					t.Errorf("predict: %d %v %+v", resp.StatusCode, err, p)
					continue
				}
				mu.Lock()
				ids = append(ids, p.AuditID)
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return ids
}

// decisionsServed is how many decisions the instance at addr gave, from
// its /metrics.
func decisionsServed(t *testing.T, addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "steelinspect_decisions_total{") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[len(f)-1])
			total += n
		}
	}
	return total
}
