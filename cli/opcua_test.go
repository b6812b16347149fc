package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	"steelinspect/internal/testnet"
	"steelinspect/opcuaout"
)

// TestOPCUARemoteRefused: an --opcua address other than loopback without
// --allow-remote is a usage error in one line, for watch, serve and the
// window alike, before anything starts.
func TestOPCUARemoteRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	for _, addr := range []string{"0.0.0.0:4840", "[::]:4840", "10.1.2.3:4840", "plc.example:4840"} {
		for _, cmd := range [][]string{
			{"watch", dir, "--db", db, "--opcua", addr},
			{"serve", "--db", db, "--model", tinyModel, "--opcua", addr},
			{"--db", db, "--model", tinyModel, "--opcua", addr},
		} {
			code, _, stderr := run(t, cmd...)
			if code != ExitUsage || !strings.Contains(stderr, "refusing to listen on non-loopback "+addr+" (--opcua)") ||
				!strings.Contains(stderr, "--allow-remote") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("%v: exit %d %q", cmd, code, stderr)
			}
		}
	}
	for _, bad := range []string{"x", "70000", "host:port"} {
		if code, _, stderr := run(t, "watch", dir, "--db", db, "--opcua", bad); code != ExitUsage || !strings.Contains(stderr, "--opcua") {
			t.Errorf("--opcua %s: exit %d %q", bad, code, stderr)
		}
	}
	// serve's --addr follows the same rule (a token file also allows it)
	code, _, stderr := run(t, "serve", "--db", db, "--model", tinyModel, "--addr", "0.0.0.0:8080")
	if code != ExitUsage || !strings.Contains(stderr, "refusing to listen on non-loopback 0.0.0.0:8080 (--addr)") {
		t.Errorf("serve --addr 0.0.0.0:8080: exit %d %q", code, stderr)
	}
	// remote allowed, but no user to sign in as
	code, _, stderr = run(t, "serve", "--db", db, "--model", tinyModel, "--addr", "127.0.0.1:0", "--opcua", "0.0.0.0:4840", "--allow-remote")
	if code != ExitUsage || !strings.Contains(stderr, "no enabled user") {
		t.Errorf("--allow-remote without users: exit %d %q", code, stderr)
	}
}

// window runs the window command with gui standing in for the window,
// and gives its exit code and standard error.
func window(t *testing.T, gui func() error, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, Env{Stdout: &out, Stderr: &errb, GUI: func(GUIOptions) error { return gui() }})
	return code, errb.String()
}

// TestOPCUAWindow: --opcua PORT serves on 127.0.0.1 to anonymous
// clients; --opcua 0.0.0.0:PORT --allow-remote serves a station user
// with their password and says the certificate's thumbprint.
func TestOPCUAWindow(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "audit.db")
	ctx := context.Background()
	port := testnet.FreePort(t)
	url := fmt.Sprintf("opc.tcp://127.0.0.1:%d", port)
	call := func(c *opcua.Client) error {
		ns, err := c.FindNamespace(ctx, opcuaout.NamespaceURI)
		if err != nil {
			return err
		}
		r, err := c.Call(ctx, &ua.CallMethodRequest{ObjectID: ua.NewStringNodeID(ns, "SteelInspect"),
			MethodID: ua.NewStringNodeID(ns, "SteelInspect.GetResult"), InputArguments: []*ua.Variant{ua.MustVariant("1")}})
		if err != nil {
			return err
		}
		if r.StatusCode != ua.StatusOK || len(r.OutputArguments) < 4 || r.OutputArguments[0].Value() != false {
			return fmt.Errorf("GetResult on an empty trail: %v %v", r.StatusCode, r.OutputArguments)
		}
		return nil
	}
	dial := func(opts ...opcua.Option) (*opcua.Client, error) {
		c, err := opcua.NewClient(url, append([]opcua.Option{opcua.AutoReconnect(false), opcua.RequestTimeout(10 * time.Second)}, opts...)...)
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		return c, c.Connect(cctx)
	}

	code, stderr := window(t, func() error {
		c, err := dial(opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AuthAnonymous())
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return call(c)
	}, "--db", db, "--model", tinyModel, "--opcua", fmt.Sprint(port))
	if code != 0 || !strings.Contains(stderr, "OPC UA server on "+url+" ") || !strings.Contains(stderr, "loopback only, anonymous") {
		t.Fatalf("--opcua %d: exit %d %q", port, code, stderr)
	}

	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("line3-secret\n"), 0o600)
	if code, _, stderr := run(t, "users", "add", "plc3", "--role", "operator", "--db", db, "--password-file", pw); code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	code, stderr = window(t, func() error {
		if _, err := dial(opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AuthAnonymous(), opcua.AuthPolicyID("anonymous")); !errors.Is(err, ua.StatusBadIdentityTokenRejected) {
			return fmt.Errorf("anonymous on the remote server: %v", err)
		}
		eps, err := opcua.GetEndpoints(ctx, url)
		if err != nil || len(eps) != 1 {
			return fmt.Errorf("endpoints: %v %v", eps, err)
		}
		c, err := dial(opcua.SecurityFromEndpoint(eps[0], ua.UserTokenTypeUserName), opcua.AuthUsername("plc3", "line3-secret"))
		if err != nil {
			return fmt.Errorf("plc3: %v", err)
		}
		defer c.Close(ctx)
		return call(c)
	}, "--db", db, "--model", tinyModel, "--opcua", fmt.Sprintf("0.0.0.0:%d", port), "--allow-remote")
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("OPC UA server on opc.tcp://0.0.0.0:%d ", port)) ||
		!strings.Contains(stderr, "SHA-1 thumbprint ") || !strings.Contains(stderr, filepath.Join(dir, "opcua-server.der")) {
		t.Fatalf("--opcua 0.0.0.0:%d --allow-remote: exit %d %q", port, code, stderr)
	}
}
