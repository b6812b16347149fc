package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"steelinspect/central"
	"steelinspect/internal/files"
	"steelinspect/mqttout"
	"steelinspect/station"
)

// The line connections set in the window (File → Line connection…), for
// a station started without --mqtt or --central: the MQTT output of
// package mqttout and the forwarding of the trail to the plant's central
// PostgreSQL (package central), run as the station's outputs
// (station.Station.SetLinks). The supervisor sets the broker, user,
// password file, CA file, the central database and its password file,
// the station's name and its production line; each change is recorded in
// the audit trail and kept in the preferences for the next start.
// Passwords stay in files: the preferences and the trail hold only where
// they are. A window started with --mqtt or --central shows those
// connections and leaves them to the command line.

// Preferences of the window's line connections.
const (
	prefMQTTURL       = "line.mqtt.url"
	prefMQTTUser      = "line.mqtt.user"
	prefMQTTPWFile    = "line.mqtt.password_file"
	prefMQTTCA        = "line.mqtt.ca"
	prefMQTTStation   = "line.mqtt.station"
	prefCentralURL    = "line.central.url"
	prefCentralPWFile = "line.central.password_file"
	prefLineName      = "line.central.line"
)

// lineConfig is the window's line settings.
type lineConfig struct {
	url, user, passwordFile, ca, station  string
	centralURL, centralPasswordFile, line string
}

func (c lineConfig) empty() bool { return c.url == "" && c.centralURL == "" }

func (i *Inspector) lineConfigFromPrefs() lineConfig {
	p := i.app.Preferences()
	return lineConfig{p.String(prefMQTTURL), p.String(prefMQTTUser), p.String(prefMQTTPWFile), p.String(prefMQTTCA), p.String(prefMQTTStation),
		p.String(prefCentralURL), p.String(prefCentralPWFile), p.String(prefLineName)}
}

// startLineFromPrefs starts the outputs the preferences name, when the
// window has a trail and no --mqtt or --central of its own.
func (i *Inspector) startLineFromPrefs() {
	c := i.lineConfigFromPrefs()
	if i.store == nil || i.lineFromCommand || c.empty() {
		return
	}
	if err := i.startLine(c); err != nil {
		i.setStatus("Line connection not started: " + err.Error())
	}
}

// readPassword reads a password file ("" for no file).
func readPassword(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	pw, err := files.ReadPassword(file)
	if err != nil {
		return "", fmt.Errorf("password file: %v", err)
	}
	return pw, nil
}

// centralDSN is the central database's URL with the password from its
// file; a URL that holds a password itself is refused, since the URL is
// kept in the preferences and recorded in the trail.
func (c lineConfig) centralDSN() (string, error) {
	u, err := url.Parse(c.centralURL)
	if err != nil || !central.IsURL(c.centralURL) {
		return "", fmt.Errorf("central database: %q is not a postgres://user@host:5432/database URL", c.centralURL)
	}
	if _, has := u.User.Password(); has {
		return "", errors.New("central database: put the password in a password file, not in the URL (the URL is kept in the preferences and the audit trail)")
	}
	pw, err := readPassword(c.centralPasswordFile)
	if err != nil || pw == "" {
		return u.String(), err
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String(), nil
}

// links are the station's outputs c asks for.
func (c lineConfig) links() (station.Links, error) {
	l := station.Links{Name: c.station, Line: c.line}
	if c.url != "" {
		pw, err := readPassword(c.passwordFile)
		if err != nil {
			return l, err
		}
		l.MQTT = &mqttout.Config{URL: c.url, Username: c.user, Password: pw, CAFile: c.ca, Station: c.station}
	}
	if c.centralURL != "" {
		dsn, err := c.centralDSN()
		if err != nil {
			return l, err
		}
		l.Central = dsn
	}
	return l, nil
}

// startLine starts the outputs c asks for on the station, in place of
// those the window set before.
func (i *Inspector) startLine(c lineConfig) error {
	l, err := c.links()
	if err != nil {
		return err
	}
	if err := i.st.SetLinks(l); err != nil {
		return err
	}
	i.lineSet = true
	i.followLink()
	return nil
}

// stopLine stops the outputs the window set (MQTT says offline) and
// waits.
func (i *Inspector) stopLine() {
	if !i.lineSet {
		return
	}
	i.st.SetLinks(station.Links{})
	i.lineSet = false
}

// linkStatus is the connections' state for the status bar: the
// station's outputs with a link, the command line's or the window's; ok
// false while one is down, on false while none runs.
func (i *Inspector) linkStatus() (s string, ok, on bool) {
	if !i.st.HasLinks() {
		return "", false, false
	}
	s, ok = i.st.LinkStatus()
	return s, ok, true
}

// showLineSettings opens File → Line connection…: the MQTT output's and
// the central forwarding's settings, behind the supervisor lock.
func (i *Inspector) showLineSettings() {
	if i.store == nil {
		i.showError("No line connection", "the MQTT output and the central forwarding send the audit trail, and this window keeps none (--no-audit)")
		return
	}
	if i.lineFromCommand {
		s, _ := i.st.LinkStatus()
		i.showMessage("Line connection", "This station was started with --mqtt or --central; its connections are set on the command line.\n\n"+s)
		return
	}
	if i.isLocked() {
		i.askUnlock(i.showLineSettings)
		return
	}
	c := i.lineConfigFromPrefs()
	entry := func(text, hint string) *dialogEntry {
		e := newDialogEntry(false, false)
		e.SetText(text)
		e.SetPlaceHolder(hint)
		return e
	}
	fields := []*dialogEntry{
		entry(c.url, "tcp://broker:1883 or ssl://broker:8883 (empty: off)"),
		entry(c.user, "user name, if the broker asks for one"),
		entry(c.passwordFile, "file holding the password (never the password itself)"),
		entry(c.ca, "PEM file of the CAs a TLS broker is checked against"),
		entry(c.centralURL, "postgres://user@host:5432/database (empty: off)"),
		entry(c.centralPasswordFile, "file holding the database password"),
		entry(c.station, "default: the host name"),
		entry(c.line, "the production line, for plant-wide reports"),
	}
	labels := []string{"MQTT broker", "MQTT user", "MQTT password file", "MQTT CA file", "Central database", "Database password file", "Station", "Line"}
	items := make([]*widget.FormItem, len(fields))
	for k, f := range fields {
		items[k] = widget.NewFormItem(labels[k], f)
	}
	d := i.keyedForm("Line connection (MQTT, central database)", "Save and connect", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		v := make([]string, len(fields))
		for k, f := range fields {
			v[k] = strings.TrimSpace(f.Text)
		}
		i.applyLineSettings(lineConfig{url: v[0], user: v[1], passwordFile: v[2], ca: v[3],
			centralURL: v[4], centralPasswordFile: v[5], station: v[6], line: v[7]})
	})
	d.Resize(fyne.NewSize(680, 500))
	d.Show()
	i.win.Canvas().Focus(fields[0])
}

// applyLineSettings starts (or, with neither output set, stops) the
// window's outputs with c, records each change and keeps c for the next
// start.
func (i *Inspector) applyLineSettings(c lineConfig) {
	old := i.lineConfigFromPrefs()
	if c.empty() {
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
		{prefCentralURL, "central_url", old.centralURL, c.centralURL},
		{prefCentralPWFile, "central_password_file", old.centralPasswordFile, c.centralPasswordFile},
		{prefLineName, "line", old.line, c.line},
	} {
		p.SetString(s.key, s.is)
		i.recordSetting(s.setting, s.was, s.is)
	}
	i.settings.touch()
	var on []string
	if c.url != "" {
		on = append(on, "publishing to "+c.url)
	}
	if c.centralURL != "" {
		on = append(on, "forwarding to "+c.centralURL)
	}
	if len(on) == 0 {
		i.setStatus("Line connection off")
	} else {
		i.setStatus("Line connection: " + strings.Join(on, ", "))
	}
}

// linkStatusEvery is how often the line connection's state is read.
const linkStatusEvery = 2 * time.Second

// followLink shows the station's line connections in the status bar until the window
// closes: a station whose line connection is down says so where the
// operator looks.
func (i *Inspector) followLink() {
	if i.linkFollowed {
		return
	}
	if _, _, on := i.linkStatus(); !on {
		return
	}
	i.linkFollowed = true
	i.bg.Add(1)
	go func() {
		defer i.bg.Done()
		t := time.NewTicker(linkStatusEvery)
		defer t.Stop()
		for {
			i.do(i.showLinkStatus)
			select {
			case <-i.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// showLinkStatus shows the line connection's state in the status bar.
func (i *Inspector) showLinkStatus() {
	l := i.w.statusLink
	s, up, on := i.linkStatus()
	if !on {
		l.Hide()
		return
	}
	l.Importance = widget.WarningImportance
	if up {
		l.Importance = widget.LowImportance
	}
	l.SetText(s)
	l.Show()
}

// reportSettings tells the station the model and thresholds in force,
// which its line outputs say (Station.SetState).
func (i *Inspector) reportSettings() {
	if i.models.manifest == nil {
		return
	}
	i.st.SetState(i.models.manifest.Identity(), i.settings.Thresholds())
}
