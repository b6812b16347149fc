package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"steelinspect/internal/testbroker"
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
	h := newHarnessOn(t, app, Options{Audit: store})
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
	again := newHarnessOn(t, app, Options{Audit: store})
	again.ins.review.setOperator("alice")
	waitUntil(t, "online again", func() bool {
		return strings.Contains(string(sub.Last("steelinspect/line3/state")), `"online"`)
	})
	if again.ins.link == nil {
		t.Error("the preferences' connection was not started")
	}
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
