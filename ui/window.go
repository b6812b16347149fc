package ui

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Inspector is the Steel Inspector window. It puts together its parts,
// each a type that owns its widgets and what they show, and answers what
// they ask of the window through a small host interface:
//
//   - settings, the settings column's thresholds: the sliders, the
//     supervisor lock and the decision-logic table (settings.go);
//   - strip, the strip view: the image with its heatmap, the heatmap
//     controls, the patch table and the 1:1 patch view (strippanel.go);
//   - card, the result card: the decision, its advice, Re-inspect, the
//     metrics and the zone breakdown (cards.go), with review, the
//     operator's actions on it (review.go);
//   - processed, the Processed list: the strips, the shift's figures and
//     the review queue (processed.go, shift.go);
//   - models, the model panel under the list (model.go).
//
// The window itself holds the strip in view (current, verdict), runs the
// worker that scores the strips (inspector.go, worker.go) and the
// station's line, and opens the other screens: History, Calibrate, Teach,
// Learn, Watch folder and the floor's run mode. Everything but the
// worker, the station and bg belongs to the UI goroutine; work done off
// it comes back through do.
type Inspector struct {
	app  fyne.App
	win  fyne.Window
	opts Options

	// The window's parts (see above).
	settings  *settingsPanel
	strip     *stripPanel
	card      *resultCard
	review    *reviewPanel
	processed *processedList
	models    *modelPanel
	// w are the toolbar, status bar and columns (widgets.go).
	w widgets

	// current is the index in processed.items of the strip in view, -1
	// when none is; verdict is its verdict at the thresholds in force.
	current int
	verdict *verdict.Verdict
	// showWanted is the item whose display image is being decoded, -1
	// none.
	showWanted int

	// do runs a function on the UI goroutine: fyne.Do, or a queue the
	// tests drain.
	do func(func())
	// work owns the model and scores every strip (worker.go).
	work *worker
	// ctx is the window's lifetime, cancelled by Close.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	// st is the station the window runs (Options.Station); store is its
	// audit trail, nil without one.
	st    *station.Station
	store *audit.Store
	// bg counts goroutines besides the worker (audit writes, decoding for
	// display, PIN checks) that report back through do.
	bg sync.WaitGroup

	// State below belongs to the UI goroutine.
	pending  int // goroutines in bg not yet reported back
	busy     int // work that keeps Open… disabled (reading, inspecting) not yet done
	batch    batchState
	driftAt  time.Time // when the signs of drift were last measured (drift.go)
	hasUsers bool      // the trail has named users: a production station (no demo strips)
	// keys gives the window's dialogs Enter and Esc.
	keys dialogKeys
	// picker notes the file picker's changes of folder (picker.go).
	picker *pickerGuard
	// reinspectQ is the open question about strips opened again (reopen.go),
	// nil when none; restoring says the shift is being restored from the
	// trail, and afterRestore what waits for it.
	reinspectQ   *reinspectAsk
	restoring    bool
	afterRestore []func()
	// lineFromCommand says the station was started with line outputs
	// that have a link (--mqtt, --central), which the window leaves to
	// the command line; lineSet says the window set its own (line.go);
	// linkFollowed says the status bar follows a line connection.
	lineFromCommand bool
	lineSet         bool
	linkFollowed    bool

	// The other screens.
	watch     *watchScreen
	history   *historyView
	calibrate *calibrateView
	teach     *teachView
	// run is the floor's view (runmode.go)
	run runMode

	shotTaken bool
	shotErr   error
	// errorsShown and messagesShown record every error and message
	// shown, for tests.
	errorsShown   []string
	messagesShown []string
}

// NewInspector builds the window for app without running the app loop;
// call Window().ShowAndRun() to run it, and Close when done. The
// Inspector owns opts.Model from then on.
func NewInspector(a fyne.App, opts Options) *Inspector {
	return newInspector(a, opts, fyne.Do)
}

func newInspector(a fyne.App, opts Options, do func(func())) *Inspector {
	st := opts.Station
	if st == nil {
		st = station.FromParts(nil, nil, nil) // no trail, no archive
	}
	i := &Inspector{
		app:             a,
		opts:            opts,
		do:              do,
		current:         -1,
		showWanted:      -1,
		st:              st,
		store:           st.Trail(),
		lineFromCommand: st.HasLinks(),
	}
	i.ctx, i.cancel = context.WithCancel(context.Background())
	i.models = newModelPanel(i, opts.Model)
	i.settings = newSettingsPanel(i, i.store != nil, i.loadThresholds())
	i.strip = newStripPanel(i)
	i.card = newResultCard(i)
	i.processed = newProcessedList(i, i.store != nil)
	i.work = newWorker(i.ctx, opts.Model, st, i.settings.Thresholds())
	i.win = a.NewWindow(AppName)
	i.keys.win = i.win
	i.win.SetCloseIntercept(i.confirmQuit)
	i.watch = newWatchScreen(i)
	i.review = newReviewPanel(i)
	i.buildUI()
	i.win.Resize(fyne.NewSize(1360, 860))
	i.reportSettings()
	i.followLink()
	i.startLineFromPrefs()

	i.refreshValidation() // without a trail: shown, nothing records a sign-off
	if i.store != nil {
		i.checkRecordedThresholds()
		i.refreshDrift(true)
		i.checkUsers()
		i.followRecordedThresholds()
		i.settings.syncSliders()
		i.review.askOperator(false)
		i.restoreShift()
	}
	i.watch.resume() // the folder watched when the window last closed

	if len(opts.Paths) > 0 {
		srcs := make([]source, len(opts.Paths))
		for k, p := range opts.Paths {
			srcs[k] = source{name: filepath.Base(p), path: p}
		}
		i.open(srcs)
	} else if opts.Screenshot != "" {
		i.scheduleScreenshot()
	}
	if opts.RunMode {
		i.enterRunMode()
	}
	return i
}

// Window returns the inspector's window.
func (i *Inspector) Window() fyne.Window { return i.win }

// Close stops the background worker and closes the model. It returns the
// error of a screenshot that was asked for and failed.
func (i *Inspector) Close() error {
	i.closeOnce.Do(func() {
		i.cancel()
		i.stopLine()
		i.watch.stop()
		i.settings.stop()
		i.bg.Wait()
		i.work.stop()
		removeAlertFiles()
	})
	return i.shotErr
}

// buildUI lays the parts out: the toolbar and the station bar on top,
// the settings column (thresholds, decision logic, heatmap controls) at
// the left, the strip and the result card in the centre, the Processed
// list with the model panel under it at the right, the status bar at the
// bottom.
func (i *Inspector) buildUI() {
	w := &i.w
	i.strip.buildStrip()
	centre := container.New(&stripColumn{strip: i.strip.view, maxShare: 0.4},
		i.strip.view, i.strip.caption, i.card.build(i.review.box, i.strip.buildDetails()))

	w.sidebar = container.NewVScroll(container.NewVBox(
		i.settings.build(), widget.NewSeparator(),
		i.settings.buildLogicTable(), widget.NewSeparator(),
		i.strip.buildOverlayControls(),
	))
	w.sidebar.SetMinSize(fyne.NewSize(300, 0))

	// the columns give way on a narrow screen: the settings column folds
	// first, then the Processed list (fold.go)
	body, fold := newFoldingBody(
		container.NewHBox(w.sidebar, widget.NewSeparator()),
		container.NewPadded(centre),
		container.NewHBox(widget.NewSeparator(),
			i.processed.build(container.NewVBox(widget.NewSeparator(), i.models.build()))))
	w.body = fold

	content := container.NewBorder(
		container.NewVBox(i.buildToolbar(), i.buildStationBar(), widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), i.buildStatusBar()),
		nil, nil, body)
	i.win.SetContent(content)
	i.win.SetMainMenu(i.buildMenu())
	i.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { i.openURIs(uris) })
	i.bindKeys()

	i.settings.syncSliders()
	i.refreshLock()
	i.models.refresh()
	i.refreshStatus()
	i.redecide()
	i.refreshBusy()
	i.refreshNav()
	i.refreshStatus()
}

// refreshResult fills the result card and the strip's table and caption
// from the held verdict, and the floor's view.
func (i *Inspector) refreshResult() {
	i.card.refresh()
	i.strip.refresh()
	i.refreshRunMode()
}

// refreshImageCount says how many strips the Processed list holds; the
// navigation follows.
func (i *Inspector) refreshImageCount() {
	i.processed.refreshCount()
	i.refreshNav()
}

// decisionOf is an item's decision for the Processed list: the recorded
// one once it is in the audit trail (a threshold or model change never
// relabels it), else the current thresholds' when its analysis is fresh.
func (i *Inspector) decisionOf(it *item) (verdict.Decision, bool) {
	if it.auditID != 0 {
		return it.auto, true
	}
	if !i.isFresh(it) {
		return 0, false
	}
	v, err := it.analysis.Decide(i.settings.Thresholds())
	if err != nil {
		return 0, false
	}
	return v.Decision, true
}

// shown is the strip in view, its analysis and its verdict (stripHost).
func (i *Inspector) shown() (*item, *inference.Analysis, *verdict.Verdict) {
	return i.currentItem(), i.currentAnalysis(), i.verdict
}

// shownIndex is the index of the strip in view, -1 when none
// (processedHost).
func (i *Inspector) shownIndex() int { return i.current }

// thresholdsInForce are the settings panel's pair (stripHost).
func (i *Inspector) thresholdsInForce() verdict.Thresholds { return i.settings.Thresholds() }

// preferences are the app's (stripHost).
func (i *Inspector) preferences() fyne.Preferences { return i.app.Preferences() }

// screenHost is what every secondary screen (history, calibrate) uses of
// the station window: its lifetime, a way to work off the UI goroutine,
// and the preferences (last folder used).
type screenHost interface {
	lifetime() context.Context
	goBackground(work func() func())
	prefs() fyne.Preferences
}

// lifetime is the window's: cancelled when it closes (screenHost).
func (i *Inspector) lifetime() context.Context { return i.ctx }

// prefs are the app's (screenHost).
func (i *Inspector) prefs() fyne.Preferences { return i.app.Preferences() }

// onUI runs f on the UI goroutine.
func (i *Inspector) onUI(f func()) { i.do(f) }
