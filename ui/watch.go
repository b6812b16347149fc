package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/hotfolder"
	"steelinspect/inference"
)

// watchState is the hot folder running in the window.
type watchState struct {
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// toggleWatch starts watching a folder the user picks, or stops watching.
func (i *Inspector) toggleWatch() {
	if i.watch != nil {
		i.stopWatching()
		i.refreshWatch()
		return
	}
	pickFolder(i.win, i.app.Preferences(), func(err error) { i.showError("Cannot watch folder", err.Error()) }, i.confirmWatch)
}

// confirmWatch says what watching a folder does to its files before it
// starts: they are moved.
func (i *Inspector) confirmWatch(dir string) {
	msg := fmt.Sprintf("Every strip written into %s is scored, recorded and then MOVED into its PASS, REVIEW, REJECT or ERROR subfolder (created if missing). Files being written are waited for; name them .part, .tmp or .name while writing.", dir)
	d := dialog.NewConfirm("Watch "+filepath.Base(dir)+"?", msg, func(ok bool) {
		if ok {
			i.startWatching(dir)
		}
	}, i.win)
	d.SetConfirmText("Watch and move files")
	i.trackDialog(d, func() { d.Hide(); i.startWatching(dir) }, d.Hide)
	d.Show()
}

// confirmQuit asks before the window closes while a folder is watched
// (strips dropped after closing would wait unscored); it closes at once
// otherwise.
func (i *Inspector) confirmQuit() {
	if i.watch == nil {
		i.win.Close()
		return
	}
	dir := i.watch.dir
	d := dialog.NewConfirm("Stop watching and quit?",
		fmt.Sprintf("%s is being watched. Strips dropped there after you quit wait unscored until a station watches it again.", dir),
		func(ok bool) {
			if ok {
				i.stopWatching()
				i.win.Close()
			}
		}, i.win)
	d.SetConfirmText("Stop watching and quit")
	i.trackDialog(d, func() { d.Hide(); i.stopWatching(); i.win.Close() }, d.Hide)
	d.Show()
}

// startWatching runs a hotfolder.Watcher on dir in the background with the
// window's model and thresholds; each strip it scores joins the processed
// list. Scoring goes through the window's worker, which owns the model.
func (i *Inspector) startWatching(dir string) {
	if i.watch != nil {
		i.stopWatching()
	}
	ctx, cancel := context.WithCancel(i.ctx)
	ws := &watchState{dir: dir, cancel: cancel, done: make(chan struct{})}
	i.watch = ws
	an := &workerAnalyzer{work: i.work, manifest: i.manifest}
	t := i.work.currentThresholds()
	w := &hotfolder.Watcher{Dir: dir, Engine: an, Store: i.store, Thresholds: t}
	w.OnResult = func(r hotfolder.Result) { i.onWatchResult(dir, r) }
	go func() {
		defer close(ws.done)
		err := w.Run(ctx)
		i.do(func() {
			if err != nil {
				i.showError("Hot folder stopped", err.Error())
			}
			if i.watch == ws {
				i.watch = nil
				i.refreshWatch()
			}
		})
	}()
	i.refreshWatch()
}

// stopWatching ends the hot folder and waits for it.
func (i *Inspector) stopWatching() {
	ws := i.watch
	if ws == nil {
		return
	}
	i.watch = nil
	ws.cancel()
	<-ws.done
}

func (i *Inspector) refreshWatch() {
	w := &i.w
	if w.watchBtn == nil {
		return
	}
	if i.watch == nil {
		w.watchBtn.SetText("Watch folder…")
		w.watchBtn.SetIcon(theme.VisibilityIcon())
		w.watchLabel.Hide()
		return
	}
	t := i.work.currentThresholds()
	w.watchBtn.SetText("Stop watching")
	w.watchBtn.SetIcon(theme.MediaStopIcon())
	w.watchLabel.SetText(fmt.Sprintf("Watching %s (pass %.2f, reject %.2f)", i.watch.dir, t.Pass, t.Reject))
	w.watchLabel.Importance, w.watchLabel.TextStyle.Bold = widget.MediumImportance, false
	w.watchLabel.Show()
}

// onWatchResult runs on the watcher's goroutine.
func (i *Inspector) onWatchResult(dir string, r hotfolder.Result) {
	path := filepath.Join(dir, r.Name)
	if r.Err != nil || r.Decision == "" || r.Analysis == nil {
		msg := fmt.Sprintf("Hot folder: %s → %s", r.Name, r.Decision)
		if r.Err != nil {
			msg = fmt.Sprintf("Hot folder: %s: %v", r.Name, r.Err)
		} else if r.Resumed {
			msg = fmt.Sprintf("Hot folder: %s was decided before (%s), moved", r.Name, r.Decision)
		}
		i.do(func() { i.setStatus(msg) })
		return
	}
	auto, err := inference.ParseDecision(r.Decision)
	if err != nil {
		i.do(func() { i.setStatus(fmt.Sprintf("Hot folder: %s: %v", r.Name, err)) })
		return
	}
	res := inspected{analysis: r.Analysis, auto: auto, auditID: r.AuditID}
	moved := r.MovedTo
	if moved == "" {
		moved = path
	}
	src := source{name: r.Name, path: moved}
	i.do(func() {
		i.addResult(src, res, false)
		i.setStatus(fmt.Sprintf("Hot folder: %s → %s", r.Name, r.Decision))
		i.announceArrival(r.Name, auto)
	})
}

// announceArrival makes a REJECT or REVIEW arriving in the watched folder
// visible wherever the inspector is looking: the watch banner turns the
// decision's colour and names the strip, and the window asks for attention.
func (i *Inspector) announceArrival(name string, d inference.Decision) {
	if d == inference.Pass || i.watch == nil {
		return
	}
	w := &i.w
	w.watchLabel.SetText(fmt.Sprintf("%s arrived: %s at %s · watching %s", d, name, time.Now().Format("15:04:05"), i.watch.dir))
	w.watchLabel.Importance = decisionImportance(d)
	w.watchLabel.TextStyle.Bold = true
	w.watchLabel.Refresh()
	i.win.RequestFocus()
}
