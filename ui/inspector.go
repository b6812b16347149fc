package ui

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/disintegration/imaging"

	"steelinspect/assets"
	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// Inspector is the Steel Inspector window: the strip with its heatmap, the
// result card, the threshold sliders and the model in use.
type Inspector struct {
	app  fyne.App
	win  fyne.Window
	opts Options

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
	// models is the model panel and what the UI knows of the model in use.
	models *modelPanel
	// settings is the thresholds panel: the pair in force and the
	// supervisor lock (settings.go).
	settings   *settingsPanel
	teach      *teachView
	items      []*item
	byKey      map[string]int // source key to index in items
	visible    []int          // indices of items the processed list shows
	reviewOnly bool           // the processed list shows only strips needing review
	pending    int            // goroutines in bg not yet reported back
	batch      batchState
	watch      *watchScreen
	review     *reviewPanel
	history    *historyView
	calibrate  *calibrateView
	showWanted int // item whose display image is being decoded, -1 none
	current    int // index in items, -1 when none is shown
	verdict    *verdict.Verdict
	busy       int
	driftAt    time.Time // when the signs of drift were last measured (drift.go)
	hasUsers   bool      // the trail has named users: a production station (no demo strips)
	shotTaken  bool
	shotErr    error
	// errorsShown and messagesShown record every error and message
	// shown, for tests.
	errorsShown []string
	// keys gives the window's dialogs Enter and Esc.
	keys dialogKeys
	// lineFromCommand says the station was started with line outputs
	// that have a link (--mqtt, --central), which the window leaves to
	// the command line; lineSet says the window set its own (line.go);
	// linkFollowed says the status bar follows a line connection.
	lineFromCommand bool
	lineSet         bool
	linkFollowed    bool
	// reinspectQ is the open question about strips opened again (reopen.go),
	// nil when none; restoring says the shift is being restored from the
	// trail, and afterRestore what waits for it.
	reinspectQ   *reinspectAsk
	restoring    bool
	afterRestore []func()
	// picker notes the file picker's changes of folder (picker.go).
	picker        *pickerGuard
	messagesShown []string
	// strip is the strip view: image, heatmap, patch table and zoom
	// (strippanel.go).
	strip *stripPanel

	w widgets
	// run is the floor's view (runmode.go)
	run runMode
}

// item is one inspected strip. It stays small (probabilities, patch
// rectangles, file facts): the decoded image is dropped once scored and
// decoded again when the strip is shown, so thousands of strips take
// little memory.
type item struct {
	name     string              // what the user sees: the file's base name
	path     string              // file path; empty for an image held in memory
	data     []byte              // the encoded image when it has no path (demo strips)
	analysis *inference.Analysis // with Decoded emptied
	display  image.Image         // the strip reduced for the screen; only while shown
	modelGen int                 // modelPanel.gen when analysed

	auditID     int64            // row in the audit trail, 0 when not recorded
	inspectedAt time.Time        // when it was scored
	auto        verdict.Decision // decision recorded when inspected
	// cautions are the kinds of caution recorded with the decision (an
	// implausible strip needs a reason to pass: verdict.ReasonRequired).
	cautions []verdict.CautionKind
	review   *operatorReview
	// sha256 is the strip's content as the trail records it: a strip
	// opened again is known by it (reopen.go).
	sha256 string
}

// operatorReview is an operator's confirmation or override of a strip.
type operatorReview struct {
	decision         verdict.Decision // PASS or REJECT
	operator, reason string
	at               time.Time
}

// needsReview says whether the strip waits for an operator: recorded as
// REVIEW and not yet decided by one.
func (it *item) needsReview() bool { return it.auto == verdict.Review && it.review == nil }

// source is an image to load: a file path or bytes with a name.
type source struct {
	name string
	path string
	data []byte
}

func (s source) key() string {
	if s.path != "" {
		return "file:" + s.path
	}
	return "mem:" + s.name
}

func (it *item) source() source { return source{name: it.name, path: it.path, data: it.data} }

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
		byKey:           map[string]int{},
		st:              st,
		store:           st.Trail(),
		lineFromCommand: st.HasLinks(),
	}
	i.ctx, i.cancel = context.WithCancel(context.Background())
	i.models = newModelPanel(opts.Model)
	i.settings = newSettingsPanel(i, i.store != nil, i.loadThresholds())
	i.strip = newStripPanel(i)
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

	if i.store != nil {
		i.checkRecordedThresholds()
		i.refreshValidation()
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

// enqueue hands a job to the worker and marks the window busy until the
// job's done is called on the UI goroutine.
func (i *Inspector) enqueue(job func(done func())) {
	i.setBusy(+1)
	done := func() { i.setBusy(-1) }
	if !i.work.submit(func() { job(done) }) {
		i.setBusy(-1)
	}
}

// open loads images: the one path for files from the command line, drops,
// the file picker, folders and the demo strips. Folders are searched
// recursively for images and each strip's content is hashed, off the UI
// goroutine; strips the window holds already (by content, reopen.go) are
// inspected again only when the user says so. Everything chosen joins the
// batch queue. The first image that analyses successfully is shown;
// failures are reported together, naming each file, and leave the shown
// image as it was.
func (i *Inspector) open(srcs []source) {
	if len(srcs) == 0 {
		return
	}
	i.setStatus(fmt.Sprintf("Reading %s…", describeSources(srcs)))
	i.setBusy(+1)
	ctx := i.ctx
	i.goBackground(func() func() {
		expanded, failures := expandSources(ctx, srcs)
		list := contentHashes(ctx, expanded)
		return func() {
			i.whenRestored(func() {
				if i.ctx.Err() == nil {
					i.openFound(list, failures)
				}
				i.setBusy(-1)
			})
		}
	})
}

// inspectFound queues strips on the worker, recording each, and reports
// the failures (walkFailures: the folders' own) once done. prev maps a
// source's key to the row of a strip held already that it inspects again.
func (i *Inspector) inspectFound(list []found, walkFailures []string, note string, prev map[string]*item) {
	if len(list) == 0 && len(walkFailures) == 0 {
		return
	}
	srcs := make([]source, len(list))
	for k, f := range list {
		srcs[k] = f.src
	}
	i.setStatus(fmt.Sprintf("Analysing %s…%s", describeSources(srcs), note))
	bctx := i.batchContext()
	i.batchQueued(len(srcs))
	i.enqueue(func(done func()) {
		failures := append([]string(nil), walkFailures...)
		shown := false
		for _, s := range srcs {
			if bctx.Err() != nil {
				break
			}
			res, err := i.work.inspect(bctx, s, !shown)
			if i.ctx.Err() != nil {
				break
			}
			if err != nil {
				if bctx.Err() != nil {
					break // cancelled part-way: not a failure of the file
				}
				failures = append(failures, fmt.Sprintf("%s: %v", displayPath(s), err))
				i.do(func() { i.batchStep() })
				continue
			}
			show := !shown
			shown = true
			i.do(func() {
				i.adopt(prev[s.key()], s)
				i.addResult(s, res, show)
				i.batchStep()
			})
		}
		i.do(func() {
			if len(failures) > 0 {
				i.showError(fmt.Sprintf("Could not analyse %d of %d image(s)", len(failures), len(srcs)+len(walkFailures)),
					strings.Join(failures, "\n"))
			}
			if !shown {
				i.refreshStatus()
			}
			done()
			if !shown {
				i.scheduleScreenshot()
			}
		})
	})
}

// addResult stores a fresh result, replacing an earlier load of the same
// image, and shows it when asked to.
func (i *Inspector) addResult(s source, res inspected, show bool) {
	idx, ok := i.byKey[s.key()]
	if !ok {
		i.items = append(i.items, &item{name: s.name, path: s.path, data: s.data})
		idx = len(i.items) - 1
		i.byKey[s.key()] = idx
	}
	it := i.items[idx]
	if res.archiveErr != nil {
		i.setStatus(fmt.Sprintf("%s: %v", s.name, res.archiveErr))
	}
	it.analysis = res.analysis
	it.modelGen = i.models.gen
	it.auditID, it.auto, it.review = res.auditID, res.auto, nil
	it.cautions = nil
	if res.analysis != nil {
		it.cautions = verdict.CautionKinds(res.analysis.Cautions)
		it.sha256 = res.analysis.Image.SHA256
	}
	it.inspectedAt = time.Now()
	if res.display != nil || idx == i.current {
		it.display = res.display
	}
	if ok {
		i.refilter()
	} else if i.passesFilter(it) {
		i.visible = append(i.visible, idx)
	}
	i.w.images.Refresh()
	if show || idx == i.current {
		i.showItem(idx)
	}
	i.refreshImageCount()
	if it.auditID != 0 {
		i.refreshDrift(false)
	}
	if i.run.on {
		i.refreshRunTiles() // a strip that arrives unshown still counts and may alarm
	}
}

// showItem displays a loaded image, analysing it again first when its
// result is stale (the model changed since), and decoding it again when
// its display image was let go.
func (i *Inspector) showItem(idx int) {
	if idx < 0 || idx >= len(i.items) {
		return
	}
	it := i.items[idx]
	if !i.isFresh(it) && it.auditID != 0 {
		i.reanalyseForDisplay(idx)
		return
	}
	if !i.isFresh(it) {
		s := it.source()
		i.setStatus(fmt.Sprintf("Analysing %s with the new model…", it.name))
		i.enqueue(func(done func()) {
			res, err := i.work.inspect(i.ctx, s, true)
			i.do(func() {
				defer done()
				if err != nil {
					i.showError("Could not analyse "+it.name, fmt.Sprintf("%s: %v", displayPath(s), err))
					i.refreshStatus()
					return
				}
				i.addResult(s, res, true)
			})
		})
		return
	}
	if it.display == nil {
		i.decodeForDisplay(idx)
		return
	}
	if old := i.currentItem(); old != nil && old != it {
		old.display = nil // keep one decoded strip in memory, not thousands
	}
	i.current = idx
	i.selectInList(idx)
	i.strip.showImage(it.display, it.analysis.Image.Width, it.analysis.Image.Height)
	i.redecide()
	i.refreshStatus()
	i.refreshNav()
	i.review.refresh()
	if !i.shotTaken && i.opts.Screenshot != "" {
		i.scheduleScreenshot()
	}
}

// reanalyseForDisplay analyses a recorded strip again (restored from the
// trail, or scored by an earlier model) to show it, without recording it
// again: its audit record, recorded decision and review stay as they are,
// and the card says what the current model would decide.
func (i *Inspector) reanalyseForDisplay(idx int) {
	it := i.items[idx]
	s := it.source()
	i.setStatus(fmt.Sprintf("Analysing %s to show it (its record stays as it is)…", it.name))
	i.enqueue(func(done func()) {
		a, err := i.work.analyze(i.ctx, s)
		var display image.Image
		if err == nil {
			display = displayImage(a.Decoded.Image)
			a.Decoded = inference.DecodedImage{}
		}
		i.do(func() {
			defer done()
			if err != nil {
				i.showError("Could not show "+it.name, fmt.Sprintf("%s: %v", displayPath(s), err))
				i.refreshStatus()
				return
			}
			it.analysis, it.display, it.modelGen = &a, display, i.models.gen
			i.showItem(idx)
		})
	})
}

// decodeForDisplay decodes a strip again off the UI goroutine (not on the
// worker, so browsing stays quick while a batch runs) and then shows it.
func (i *Inspector) decodeForDisplay(idx int) {
	it := i.items[idx]
	s := it.source()
	i.showWanted = idx
	i.goBackground(func() func() {
		img, err := decodeSource(s)
		return func() {
			if err != nil {
				i.showError("Could not show "+it.name, fmt.Sprintf("%s: %v", displayPath(s), err))
				return
			}
			if i.showWanted != idx {
				return // the user moved on meanwhile
			}
			i.showWanted = -1
			it.display = img
			i.showItem(idx)
		}
	})
}

// decodeSource reads and decodes an image for display.
func decodeSource(s source) (image.Image, error) {
	data := s.data
	if s.path != "" {
		var err error
		if data, err = os.ReadFile(s.path); err != nil {
			return nil, err
		}
	}
	d, err := inference.DecodeImage(data, 0)
	if err != nil {
		return nil, err
	}
	return displayImage(d.Image), nil
}

// goBackground runs work on its own goroutine and the function it
// returns on the UI goroutine; Close waits for it.
func (i *Inspector) goBackground(work func() func()) {
	i.pending++
	i.bg.Add(1)
	go func() {
		defer i.bg.Done()
		after := work()
		i.do(func() {
			i.pending--
			if after != nil {
				after()
			}
		})
	}()
}

// isFresh says whether an item's analysis was made by the current model.
// The worker runs jobs in order and results come back in order, so a
// result arriving before a model switch's own is from the old model.
func (i *Inspector) isFresh(it *item) bool {
	return it.analysis != nil && it.modelGen == i.models.gen
}

// currentAnalysis returns the shown image's analysis, or nil.
func (i *Inspector) currentAnalysis() *inference.Analysis {
	if i.current < 0 || i.current >= len(i.items) {
		return nil
	}
	return i.items[i.current].analysis
}

// redecide applies the current thresholds to the probabilities held for
// the shown image; it never runs inference.
func (i *Inspector) redecide() {
	i.settings.refreshLogic(i.verdict)
	a := i.currentAnalysis()
	if a == nil {
		i.verdict = nil
		i.refreshResult()
		return
	}
	v, err := a.Decide(i.settings.Thresholds())
	if err != nil {
		i.verdict = nil
		i.settings.setMessage(err.Error())
		i.refreshResult()
		return
	}
	i.verdict = &v
	i.settings.refreshLogic(i.verdict) // again: the row to mark is this verdict's
	i.refreshResult()
	i.strip.refreshOverlay()
	i.w.images.Refresh()
}

// next and previous move through the loaded images.
func (i *Inspector) next()     { i.step(+1) }
func (i *Inspector) previous() { i.step(-1) }

func (i *Inspector) step(d int) {
	if len(i.items) == 0 {
		return
	}
	n := i.current + d
	if n < 0 || n >= len(i.items) {
		return
	}
	i.showItem(n)
}

// shown is the strip in view, its analysis and its verdict (stripHost).
func (i *Inspector) shown() (*item, *inference.Analysis, *verdict.Verdict) {
	return i.currentItem(), i.currentAnalysis(), i.verdict
}

// thresholdsInForce are the settings panel's pair (stripHost).
func (i *Inspector) thresholdsInForce() verdict.Thresholds { return i.settings.Thresholds() }

// preferences are the app's (stripHost).
func (i *Inspector) preferences() fyne.Preferences { return i.app.Preferences() }

func (i *Inspector) currentItem() *item {
	if i.current < 0 || i.current >= len(i.items) {
		return nil
	}
	return i.items[i.current]
}

// openDemos loads bundled demo strips.
func (i *Inspector) openDemos(demos []assets.Demo) {
	srcs := make([]source, len(demos))
	for k, d := range demos {
		srcs[k] = source{name: d.Name, data: d.Data}
	}
	i.open(srcs)
}

// openURIs loads dropped or picked files.
func (i *Inspector) openURIs(uris []fyne.URI) {
	srcs := make([]source, 0, len(uris))
	for _, u := range uris {
		if u == nil {
			continue
		}
		p := u.Path()
		if u.Scheme() != "file" || p == "" {
			i.showError("Cannot open "+u.Name(), fmt.Sprintf("%s: only local files can be opened", u.String()))
			continue
		}
		srcs = append(srcs, source{name: filepath.Base(p), path: p})
	}
	i.open(srcs)
}

// showError reports a problem in a dialog naming the file and the
// reason; the window keeps its image and result and keeps working.
func (i *Inspector) showError(title, msg string) {
	i.errorsShown = append(i.errorsShown, title+": "+msg)
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	icon := widget.NewIcon(theme.ErrorIcon())
	content := container.NewBorder(nil, nil, container.NewVBox(icon), nil,
		container.New(&fixedWidth{width: 520}, text))
	d := dialog.NewCustom(title, "OK", content, i.win)
	i.trackDialog(d, d.Hide, d.Hide)
	d.Show()
}

func (i *Inspector) setBusy(delta int) {
	i.busy += delta
	if i.busy < 0 {
		i.busy = 0
	}
	if i.busy == 0 {
		i.endBatch()
	}
	i.refreshBusy()
}

// scheduleScreenshot saves the window to Options.Screenshot and quits,
// once, after giving the window a moment to draw.
func (i *Inspector) scheduleScreenshot() {
	if i.opts.Screenshot == "" || i.shotTaken {
		return
	}
	i.shotTaken = true
	go func() {
		time.Sleep(1500 * time.Millisecond)
		// Some GL drivers (Mesa under Xvfb) only keep a readable front
		// buffer once it has been read from: read once, redraw, read again.
		i.do(func() {
			i.win.Canvas().Capture()
			i.win.Content().Refresh()
		})
		time.Sleep(700 * time.Millisecond)
		i.do(func() {
			i.shotErr = saveCapture(i.win, i.opts.Screenshot)
			i.app.Quit()
		})
	}()
}

// saveCapture writes the window's canvas to a PNG file. When the GL
// driver cannot read its frame back (Mesa under Xvfb returns an empty
// image), the window's content is drawn again with Fyne's software
// painter instead; that picture lacks only the menu bar.
func saveCapture(w fyne.Window, path string) error {
	img := w.Canvas().Capture()
	if isBlank(img) {
		img = renderSoftware(w)
	}
	if img == nil {
		return fmt.Errorf("screenshot: the window could not be captured")
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return nil
}

func displayPath(s source) string {
	if s.path != "" {
		return s.path
	}
	return s.name
}

func describeSources(srcs []source) string {
	if len(srcs) == 1 {
		return srcs[0].name
	}
	return fmt.Sprintf("%d images", len(srcs))
}

// isBlank reports an image with no visible pixel: a failed GL read-back.
func isBlank(img image.Image) bool {
	if img == nil {
		return true
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r|g|bl != 0 {
				return false
			}
		}
	}
	return true
}

// renderSoftware paints the window's content with the software painter,
// then gives the content back to the window.
func renderSoftware(w fyne.Window) image.Image {
	content := w.Content()
	if content == nil {
		return nil
	}
	size := content.Size()
	sc := software.NewCanvas()
	sc.SetPadded(false)
	sc.SetScale(w.Canvas().Scale())
	sc.Resize(size)
	sc.SetContent(content)
	sc.Resize(size)
	// Dialogs are overlays: paint them too, then hand them back.
	overlays := w.Canvas().Overlays().List()
	for _, o := range overlays {
		sc.Overlays().Add(o)
	}
	img := sc.Capture()
	for _, o := range overlays {
		sc.Overlays().Remove(o)
	}
	w.SetContent(content)
	return img
}

// displayMaxSide bounds the image handed to the GPU: no screen shows more
// of a strip, and a 50-megapixel image would be a slow texture.
const displayMaxSide = 4096

// displayImage returns img, or a reduced copy when it is larger than any
// screen shows. It runs on the worker.
func displayImage(img image.Image) image.Image {
	if img == nil {
		return nil
	}
	b := img.Bounds()
	if b.Dx() <= displayMaxSide && b.Dy() <= displayMaxSide {
		return img
	}
	return imaging.Fit(img, displayMaxSide, displayMaxSide, imaging.Box)
}

// checkUsers finds out, off the UI goroutine, whether the station has
// named users: a production station, whose window offers no demo strips
// (they would be recorded in its trail).
func (i *Inspector) checkUsers() {
	store, ctx := i.store, i.ctx
	i.goBackground(func() func() {
		users, err := store.Users(ctx)
		return func() {
			i.hasUsers = err == nil && len(users) > 0
			if i.hasUsers {
				i.w.demoBtn.Hide()
				if !i.run.on {
					i.win.SetMainMenu(i.buildMenu())
				}
			}
		}
	})
}
