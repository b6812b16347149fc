// Package testpg runs a real, throwaway PostgreSQL cluster for tests
// (Debian's postgresql package, which make test installs): initdb into a
// temporary folder, a server on a free local port with password
// authentication, stopped and removed when the test ends, and able to be
// stopped and started again mid-test. Tests skip, saying why, where
// PostgreSQL is not installed. Run as root, the cluster runs as the
// postgres user (PostgreSQL refuses root).
package testpg

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"steelinspect/internal/testnet"
	"strconv"
	"strings"
	"testing"
	"time"
)

// User and Password are the cluster's superuser.
const User, Password = "steel", "pg-s3cret"

// Cluster is a running PostgreSQL.
type Cluster struct {
	t       testing.TB
	bin     string // folder of initdb and pg_ctl
	dir     string // data folder
	sock    string
	Port    int
	asUser  []string // runuser prefix when run as root
	running bool
}

func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for k := len(dirs) - 1; k >= 0; k-- {
		if _, err := os.Stat(filepath.Join(dirs[k], "pg_ctl")); err == nil {
			return dirs[k]
		}
	}
	return ""
}

// Start makes and starts a cluster that is removed when the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin := binDir()
	if bin == "" {
		t.Skip("PostgreSQL is not installed (make test installs Debian's postgresql package)")
	}
	base, err := os.MkdirTemp("", "steelinspect-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, bin: bin, dir: filepath.Join(base, "data"), sock: base, Port: testnet.FreePort(t)}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(base)
	})
	pwfile := filepath.Join(base, "pw")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if me, err := user.Current(); err == nil && me.Uid == "0" {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("run as root and there is no postgres user to run the cluster as")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		for _, p := range []string{base, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	c.run("initdb", "-D", c.dir, "-U", User, "--pwfile="+pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
	c.Start()
	return c
}

func (c *Cluster) run(tool string, args ...string) {
	c.t.Helper()
	cmd := append(append([]string{}, c.asUser...), append([]string{filepath.Join(c.bin, tool)}, args...)...)
	out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

// URL is the connection string for password, on the cluster's database
// postgres.
func (c *Cluster) URL(password string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", User, password, c.Port)
}

// Start starts the server (again) and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.Port, c.sock)
	c.run("pg_ctl", "-D", c.dir, "-o", opts, "-w", "-t", "60", "-l", filepath.Join(c.sock, "log"), "start")
	c.running = true
	testnet.WaitListening(c.t, c.Port, 20*time.Second, "postgres")
}

// Stop stops the server (fast shutdown) and waits.
func (c *Cluster) Stop() {
	if !c.running {
		return
	}
	c.running = false
	cmd := append(append([]string{}, c.asUser...), filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "fast", "-w", "stop")
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil && !strings.Contains(string(out), "not running") {
		c.t.Logf("pg_ctl stop: %v %s", err, out)
	}
}
