package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"steelinspect/inference"
	"steelinspect/mqttout"
)

// The line connection set in the window (File → Line connection…): the
// MQTT output of package mqttout, for a station started without --mqtt.
// The supervisor sets the broker, user, password file, CA file and
// station name; each change is recorded in the audit trail and kept in
// the preferences for the next start. A window started with --mqtt shows
// that connection and leaves it to the command line.

// Preferences of the window's line connection.
const (
	prefMQTTURL     = "line.mqtt.url"
	prefMQTTUser    = "line.mqtt.user"
	prefMQTTPWFile  = "line.mqtt.password_file"
	prefMQTTCA      = "line.mqtt.ca"
	prefMQTTStation = "line.mqtt.station"
)

// lineLink is the MQTT publisher the window runs.
type lineLink struct {
	pub  *mqttout.Publisher
	stop context.CancelFunc
	done chan struct{}

	mu    sync.Mutex
	state mqttout.State
}

// lineConfig is the window's MQTT settings.
type lineConfig struct {
	url, user, passwordFile, ca, station string
}

func (i *Inspector) lineConfigFromPrefs() lineConfig {
	p := i.app.Preferences()
	return lineConfig{p.String(prefMQTTURL), p.String(prefMQTTUser), p.String(prefMQTTPWFile), p.String(prefMQTTCA), p.String(prefMQTTStation)}
}

// startLineFromPrefs starts the MQTT output the preferences name, when
// the window has a trail and no --mqtt of its own.
func (i *Inspector) startLineFromPrefs() {
	c := i.lineConfigFromPrefs()
	if i.store == nil || i.opts.LinkStatus != nil || c.url == "" {
		return
	}
	if err := i.startLine(c); err != nil {
		i.setStatus("Line connection not started: " + err.Error())
	}
}

// startLine starts publishing with c (stopping a publisher running).
func (i *Inspector) startLine(c lineConfig) error {
	cfg := mqttout.Config{URL: c.url, Username: c.user, CAFile: c.ca, Station: c.station}
	if c.passwordFile != "" {
		pw, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return fmt.Errorf("password file: %v", err)
		}
		cfg.Password = strings.TrimRight(string(pw), "\r\n")
	}
	link := &lineLink{done: make(chan struct{})}
	link.setState(i.models.manifest, i.thresholds)
	pub, err := mqttout.New(cfg, i.store, link.current)
	if err != nil {
		return err
	}
	i.stopLine()
	link.pub = pub
	ctx, cancel := context.WithCancel(i.ctx)
	link.stop = cancel
	go func() {
		defer close(link.done)
		pub.Run(ctx)
	}()
	i.link = link
	i.followLink()
	return nil
}

// stopLine stops the window's publisher (it says offline) and waits.
func (i *Inspector) stopLine() {
	if i.link == nil {
		return
	}
	i.link.stop()
	<-i.link.done
	i.link = nil
}

func (l *lineLink) setState(m *inference.Manifest, t inference.Thresholds) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m != nil {
		l.state.Model = m.Identity()
	}
	l.state.Thresholds = t
}

func (l *lineLink) current() mqttout.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// linkStatus is the connection's state for the status bar: the command
// line's, else the window's own; ok false while down.
func (i *Inspector) linkStatus() (string, bool, bool) {
	if i.opts.LinkStatus != nil {
		s, up := i.opts.LinkStatus()
		return s, up, true
	}
	if l := i.link; l != nil {
		return l.pub.Status(), l.pub.Connected(), true
	}
	return "", false, false
}

// showLineSettings opens File → Line connection…: the MQTT output's
// settings, behind the supervisor lock.
func (i *Inspector) showLineSettings() {
	if i.store == nil {
		i.showError("No line connection", "the MQTT output sends the audit trail, and this window keeps none (--no-audit)")
		return
	}
	if i.opts.LinkStatus != nil {
		s, _ := i.opts.LinkStatus()
		i.showMessage("Line connection", "This station was started with --mqtt; its connection is set on the command line.\n\n"+s)
		return
	}
	if i.isLocked() {
		i.askUnlock(i.showLineSettings)
		return
	}
	c := i.lineConfigFromPrefs()
	entry := func(text, hint string, password bool) *dialogEntry {
		e := newDialogEntry(password, false)
		e.SetText(text)
		e.SetPlaceHolder(hint)
		return e
	}
	url := entry(c.url, "tcp://broker:1883 or ssl://broker:8883 (empty: off)", false)
	user := entry(c.user, "user name, if the broker asks for one", false)
	pwFile := entry(c.passwordFile, "file holding the password (never the password itself)", false)
	ca := entry(c.ca, "PEM file of the CAs a TLS broker is checked against", false)
	station := entry(c.station, "default: the host name", false)
	d := i.keyedForm("Line connection (MQTT)", "Save and connect", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Broker", url), widget.NewFormItem("User", user), widget.NewFormItem("Password file", pwFile),
		widget.NewFormItem("CA file", ca), widget.NewFormItem("Station", station),
	}, func(ok bool) {
		if ok {
			i.applyLineSettings(lineConfig{strings.TrimSpace(url.Text), strings.TrimSpace(user.Text),
				strings.TrimSpace(pwFile.Text), strings.TrimSpace(ca.Text), strings.TrimSpace(station.Text)})
		}
	})
	d.Resize(fyne.NewSize(640, 360))
	d.Show()
	i.win.Canvas().Focus(url)
}

// applyLineSettings starts (or, with no broker, stops) the MQTT output
// with c, records each change and keeps c for the next start.
func (i *Inspector) applyLineSettings(c lineConfig) {
	old := i.lineConfigFromPrefs()
	if c.url == "" {
		i.stopLine()
		i.w.statusLink.Hide()
	} else if err := i.startLine(c); err != nil {
		i.showError("Line connection not changed", err.Error())
		return
	}
	p := i.app.Preferences()
	for _, s := range []struct{ key, setting, was, is string }{
		{prefMQTTURL, "mqtt_url", old.url, c.url}, {prefMQTTUser, "mqtt_user", old.user, c.user},
		{prefMQTTPWFile, "mqtt_password_file", old.passwordFile, c.passwordFile}, {prefMQTTCA, "mqtt_ca", old.ca, c.ca},
		{prefMQTTStation, "mqtt_station", old.station, c.station},
	} {
		p.SetString(s.key, s.is)
		i.recordSetting(s.setting, s.was, s.is)
	}
	i.touchLock()
	if c.url == "" {
		i.setStatus("Line connection off")
	} else {
		i.setStatus("Line connection: publishing to " + c.url)
	}
}
