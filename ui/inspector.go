package ui

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/disintegration/imaging"

	"steelinspect/assets"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// The window's work on strips: a strip is opened (files, folders, drops,
// demo strips), inspected on the worker and recorded, added to the
// Processed list, and shown, decoded again or analysed again for display
// when needed. The window itself (its parts and how they are put
// together) is in window.go.

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
				i.processed.adopt(prev[s.key()], s)
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
	idx, held := i.processed.add(s)
	it := i.processed.items[idx]
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
	i.processed.placed(idx, held)
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
	if idx < 0 || idx >= len(i.processed.items) {
		return
	}
	it := i.processed.items[idx]
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
	i.processed.selectItem(idx)
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
	it := i.processed.items[idx]
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
	it := i.processed.items[idx]
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
	if i.current < 0 || i.current >= len(i.processed.items) {
		return nil
	}
	return i.processed.items[i.current].analysis
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
	i.processed.refreshRows()
}

// next and previous move through the loaded images.
func (i *Inspector) next()     { i.step(+1) }
func (i *Inspector) previous() { i.step(-1) }

func (i *Inspector) step(d int) {
	if len(i.processed.items) == 0 {
		return
	}
	n := i.current + d
	if n < 0 || n >= len(i.processed.items) {
		return
	}
	i.showItem(n)
}

func (i *Inspector) currentItem() *item {
	if i.current < 0 || i.current >= len(i.processed.items) {
		return nil
	}
	return i.processed.items[i.current]
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
