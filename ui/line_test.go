package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/jackc/pgx/v5"

	"steelinspect/central"
	"steelinspect/internal/testbroker"
	"steelinspect/internal/testpg"
)

// TestLineConnectionSetInTheWindow: a supervisor sets the MQTT output in
// the window (File → Line connection…) against a real Mosquitto; the
// strip inspected next is published, the status bar says connected, the
// change is recorded, and the next start connects from the preferences.
func TestLineConnectionSetInTheWindow(t *testing.T) {
	b := testbroker.Start(t)
	sub := testbroker.Subscribe(t, b, "mes-window", "steelinspect/#")
	store := openStore(t)
	app := test.NewTempApp(t)
	h := newHarnessOn(t, app, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	if fileMenuItem(h, "Line connection") == nil {
		t.Fatal("no Line connection… in the File menu")
	}
	h.unlockAsSupervisor()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(testbroker.Password+"\n"), 0o600)
	h.ins.applyLineSettings(lineConfig{url: b.URL(), user: testbroker.User, passwordFile: pw, station: "line3"})
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	waitUntil(t, "the result on MQTT", func() bool { return len(sub.Payloads("/result")) == 1 })
	if !strings.Contains(string(sub.Payloads("/result")[0]), `"path":`) {
		t.Errorf("result %s", sub.Payloads("/result")[0])
	}
	h.waitFor("the link in the status bar", func() bool {
		h.ins.showLinkStatus()
		return strings.Contains(h.ins.w.statusLink.Text, "line3")
	})
	changes, _ := store.SettingChanges(context.Background())
	found := false
	for _, c := range changes {
		found = found || (c.Setting == "mqtt_url" && c.NewValue == b.URL() && strings.HasPrefix(c.ChangedBy, supervisorName))
	}
	if !found {
		t.Errorf("the setting is not recorded: %+v", changes)
	}
	h.ins.Close()
	waitUntil(t, "offline", func() bool {
		return strings.Contains(string(sub.Last("steelinspect/line3/state")), `"offline"`)
	})

	// the next start connects by itself
	again := newHarnessOn(t, app, Options{Station: onTrail(store)})
	again.ins.review.setOperator("alice")
	waitUntil(t, "online again", func() bool {
		return strings.Contains(string(sub.Last("steelinspect/line3/state")), `"online"`)
	})
	if got := again.ins.st.Outputs(); !slices.Equal(got, []string{"mqtt"}) {
		t.Errorf("the preferences' connection was not started on the station: outputs %v", got)
	}
}

// TestCentralForwardingSetInTheWindow: a supervisor sets the central
// database in the window against a real PostgreSQL, the password in a
// file; the strip inspected next reaches the central trail with the
// station's line, the status bar says so, the change is recorded without
// the password, and a URL holding a password is refused.
func TestCentralForwardingSetInTheWindow(t *testing.T) {
	pg := testpg.Start(t)
	store := openStore(t)
	h := newHarnessOn(t, test.NewTempApp(t), Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	h.unlockAsSupervisor()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(testpg.Password+"\n"), 0o600)
	bare := strings.Replace(pg.URL(testpg.Password), ":"+testpg.Password+"@", "@", 1)
	withPassword := lineConfig{centralURL: pg.URL(testpg.Password), station: "line3-w", line: "line 3"}
	if _, err := withPassword.centralDSN(); err == nil || !strings.Contains(err.Error(), "password file") {
		t.Errorf("a URL holding the password: %v", err)
	}
	h.ins.applyLineSettings(lineConfig{centralURL: bare, centralPasswordFile: pw, station: "line3-w", line: "line 3"})
	if got := h.ins.st.Outputs(); !slices.Equal(got, []string{"central"}) {
		t.Fatalf("the station's outputs %v: want the central forwarder alone", got)
	}
	h.openPaths(writePNG(t, t.TempDir(), "a.png", stripA()))
	conn, err := pgx.Connect(context.Background(), pg.URL(testpg.Password))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	waitUntil(t, "the inspection in the central database", func() bool {
		got, err := central.History(context.Background(), conn, central.Query{Line: "line 3"})
		return err == nil && len(got) == 1 && got[0].Station == "line3-w" && strings.HasSuffix(got[0].Path, "a.png")
	})
	h.waitFor("the central link in the status bar", func() bool {
		h.ins.showLinkStatus()
		return strings.Contains(h.ins.w.statusLink.Text, "connected as station line3-w")
	})
	waitUntil(t, "the settings recorded", func() bool {
		changes, _ := store.SettingChanges(context.Background())
		seen := map[string]string{}
		for _, c := range changes {
			seen[c.Setting] = c.NewValue
			if strings.Contains(c.NewValue, testpg.Password) {
				t.Fatalf("the password reached the trail: %+v", c)
			}
		}
		return seen["central_url"] == bare && seen["line"] == "line 3" && seen["central_password_file"] == pw
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
