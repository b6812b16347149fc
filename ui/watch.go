package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/hotfolder"
	"steelinspect/station"
	"steelinspect/verdict"
)

// watchScreen is "Watch folder…" in the window: its button, the banner
// that names the watched folder and announces REJECT and REVIEW arrivals,
// and the hot folder watcher running in the background. It belongs to the
// UI goroutine and gets from the window only what watchHost offers.
type watchScreen struct {
	host   watchHost
	button *widget.Button
	banner *widget.Label
	// sound, when checked, also announces a REJECT or REVIEW arrival by
	// ear (sound.go); play plays it (tests replace it).
	sound *widget.Check
	play  func(verdict.Decision) error
	run   *watchRun // nil while no folder is watched
}

// watchRun is one watched folder.
type watchRun struct {
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// watchHost is what the hot folder uses of the station window: the worker
// to score with, the station and the thresholds in force, and the
// Processed list that arrivals join.
type watchHost interface {
	screenHost
	window() fyne.Window
	dialogKeys() *dialogKeys
	scorer() workerAnalyzer
	// station is the window's: the hot folder records in its trail and
	// keeps copies in its archive, as strips opened in the window are
	station() *station.Station
	workThresholds() verdict.Thresholds
	showError(title, msg string)
	trackDialog(d dialog.Dialog, enter, esc func())
	onUI(f func())
	setStatus(s string)
	// arrived adds a strip the hot folder scored and recorded to the
	// Processed list.
	arrived(s source, res inspected)
}

func (i *Inspector) window() fyne.Window                { return i.win }
func (i *Inspector) dialogKeys() *dialogKeys            { return &i.keys }
func (i *Inspector) auditStore() *audit.Store           { return i.store }
func (i *Inspector) station() *station.Station          { return i.st }
func (i *Inspector) workThresholds() verdict.Thresholds { return i.work.currentThresholds() }
func (i *Inspector) arrived(s source, res inspected)    { i.addResult(s, res, false) }

func newWatchScreen(host watchHost) *watchScreen {
	ws := &watchScreen{host: host, banner: widget.NewLabel(""), play: playAlert}
	ws.button = widget.NewButtonWithIcon("Watch folder…", theme.VisibilityIcon(), ws.toggle)
	ws.banner.Hide()
	prefs := host.prefs()
	ws.sound = widget.NewCheck("Sound", nil)
	ws.sound.Checked = prefs.BoolWithFallback(prefWatchSound, false)
	ws.sound.OnChanged = func(on bool) { prefs.SetBool(prefWatchSound, on) }
	ws.sound.Hide()
	return ws
}

// watching says whether a folder is being watched, and which.
func (ws *watchScreen) watching() (string, bool) {
	if ws.run == nil {
		return "", false
	}
	return ws.run.dir, true
}

// prefWatchDir is the folder watched when the window last closed ("" when
// none): the next start watches it again.
const prefWatchDir = "watch.dir"

// toggle starts watching a folder the user picks, or stops watching (and
// the next start does not watch it again).
func (ws *watchScreen) toggle() {
	if ws.run != nil {
		ws.stop()
		ws.host.prefs().SetString(prefWatchDir, "")
		ws.refresh()
		return
	}
	h := ws.host
	pickWatchFolder(h.dialogKeys(), h.prefs(), func(err error) { h.showError("Cannot watch folder", err.Error()) }, ws.confirm)
}

// confirm says what watching a folder does to its files before it
// starts: they are moved.
func (ws *watchScreen) confirm(dir string) {
	msg := fmt.Sprintf("Every strip written into %s is scored, recorded and then MOVED into its PASS, REVIEW, REJECT or ERROR subfolder (created if missing). Files being written are waited for; name them .part, .tmp or .name while writing.", dir)
	d := dialog.NewConfirm("Watch "+filepath.Base(dir)+"?", msg, func(ok bool) {
		if ok {
			ws.start(dir)
		}
	}, ws.host.window())
	d.SetConfirmText("Watch and move files")
	ws.host.trackDialog(d, func() { d.Hide(); ws.start(dir) }, d.Hide)
	d.Show()
}

// start runs a hotfolder.Watcher on dir in the background with the
// window's model and the thresholds in force; each strip it scores joins
// the Processed list. Scoring goes through the window's worker, which
// owns the model.
func (ws *watchScreen) start(dir string) {
	if ws.run != nil {
		ws.stop()
	}
	h := ws.host
	ctx, cancel := context.WithCancel(h.lifetime())
	run := &watchRun{dir: dir, cancel: cancel, done: make(chan struct{})}
	ws.run = run
	h.prefs().SetString(prefWatchDir, dir)
	h.prefs().SetString(prefWatchLastDir, dir)
	an := h.scorer()
	// the window's station, its archive included (a REJECT arriving here
	// was once recorded without its copy), and the window's pair, fixed
	// on it and for the run: the window itself follows the thresholds in
	// force and restarts the watch when they change
	w := &hotfolder.Watcher{Dir: dir, Engine: &an, Station: h.station(), Thresholds: h.workThresholds()}
	w.Log = func(line string) { h.onUI(func() { h.setStatus("Hot folder: " + line) }) }
	w.OnResult = func(r hotfolder.Result) { ws.onResult(dir, r) }
	go func() {
		defer close(run.done)
		err := w.Run(ctx)
		h.onUI(func() {
			if err != nil {
				h.showError("Hot folder stopped", err.Error())
			}
			if ws.run == run {
				ws.run = nil
				ws.refresh()
			}
		})
	}()
	ws.refresh()
}

// resume watches again, at start, the folder that was watched when the
// window last closed (quitting while watching, or a crash): it was
// confirmed then. A folder that is no longer there is not watched, and
// the status bar says so; it is tried again at the next start.
func (ws *watchScreen) resume() {
	dir := ws.host.prefs().String(prefWatchDir)
	if dir == "" || ws.run != nil {
		return
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		ws.host.setStatus(fmt.Sprintf("Not watching %s again: it is not a folder now (Watch folder… picks one).", dir))
		return
	}
	ws.start(dir)
	ws.host.setStatus(fmt.Sprintf("Watching %s again, as when the window last closed.", dir))
}

// restart watches the same folder again: the watcher takes its thresholds
// when it starts.
func (ws *watchScreen) restart() {
	if ws.run != nil {
		ws.start(ws.run.dir)
	}
}

// stop ends the hot folder and waits for it.
func (ws *watchScreen) stop() {
	run := ws.run
	if run == nil {
		return
	}
	ws.run = nil
	run.cancel()
	<-run.done
}

// refresh shows the button and banner for the current state.
func (ws *watchScreen) refresh() {
	if ws.run == nil {
		ws.button.SetText("Watch folder…")
		ws.button.SetIcon(theme.VisibilityIcon())
		ws.banner.Hide()
		ws.sound.Hide()
		return
	}
	ws.sound.Show()
	t := ws.host.workThresholds()
	ws.button.SetText("Stop watching")
	ws.button.SetIcon(theme.MediaStopIcon())
	ws.banner.SetText(fmt.Sprintf("Watching %s (pass %.2f, reject %.2f)", ws.run.dir, t.Pass, t.Reject))
	ws.banner.Importance, ws.banner.TextStyle.Bold = widget.MediumImportance, false
	ws.banner.Show()
}

// onResult runs on the watcher's goroutine.
func (ws *watchScreen) onResult(dir string, r hotfolder.Result) {
	h := ws.host
	path := filepath.Join(dir, r.Name)
	if r.Err != nil || r.Decision.IsZero() || r.Analysis == nil {
		msg := fmt.Sprintf("Hot folder: %s → %s", r.Name, r.Decision)
		if r.Err != nil {
			msg = fmt.Sprintf("Hot folder: %s: %v", r.Name, r.Err)
		} else if r.Resumed {
			msg = fmt.Sprintf("Hot folder: %s was decided before (%s), moved", r.Name, r.Decision)
		}
		h.onUI(func() { h.setStatus(msg) })
		return
	}
	auto, _ := r.Decision.Get() // there is one: checked above
	res := inspected{analysis: r.Analysis, auto: auto, auditID: r.AuditID}
	moved := r.MovedTo
	if moved == "" {
		moved = path
	}
	src := source{name: r.Name, path: moved}
	h.onUI(func() {
		h.arrived(src, res)
		h.setStatus(fmt.Sprintf("Hot folder: %s → %s", r.Name, r.Decision))
		ws.announce(r.Name, auto)
	})
}

// announce makes a REJECT or REVIEW arriving in the watched folder
// visible wherever the inspector is looking: the banner turns the
// decision's colour and names the strip, and the window asks for
// attention.
func (ws *watchScreen) announce(name string, d verdict.Decision) {
	if d == verdict.Pass || ws.run == nil {
		return
	}
	b := ws.banner
	b.SetText(fmt.Sprintf("%s arrived: %s at %s · watching %s", d, name, time.Now().Format("15:04:05"), ws.run.dir))
	b.Importance = decisionImportance(d)
	b.TextStyle.Bold = true
	b.Refresh()
	ws.host.window().RequestFocus()
	if ws.sound.Checked {
		h := ws.host
		h.goBackground(func() func() {
			err := ws.play(d)
			return func() {
				if err != nil {
					h.setStatus("Arrival sound not played: " + err.Error())
				}
			}
		})
	}
}

// fileNotMoved shows in the banner why a decided strip's file was not
// moved (hotfolder.Refile's note): it stays there until the next arrival
// or change of watch, where the status bar's line goes with the next
// strip shown.
func (i *Inspector) fileNotMoved(line string) {
	b := i.watch.banner
	b.SetText(line)
	b.Importance, b.TextStyle.Bold = widget.WarningImportance, true
	b.Show()
	b.Refresh()
}

// confirmQuit asks before the window closes while a folder is watched
// (strips dropped after closing would wait unscored); it closes at once
// otherwise.
func (i *Inspector) confirmQuit() {
	dir, on := i.watch.watching()
	if !on {
		i.win.Close()
		return
	}
	quit := func() {
		i.watch.stop()
		i.win.Close()
	}
	d := dialog.NewConfirm("Stop watching and quit?",
		fmt.Sprintf("%s is being watched. Strips dropped there after you quit wait unscored until a station watches it again; this window watches it again when it next starts.", dir),
		func(ok bool) {
			if ok {
				quit()
			}
		}, i.win)
	d.SetConfirmText("Stop watching and quit")
	i.trackDialog(d, func() { d.Hide(); quit() }, d.Hide)
	d.Show()
}
