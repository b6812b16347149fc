package ui

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/inference"
	"steelinspect/station"
)

// modelPanel is the model side of the window: which model is in use
// (name, version, hash, how it does on real steel, Details…), Open model…,
// Teach good steel… (teach.go) and Back to the previous model. It holds
// the model's facts as the UI goroutine knows them; the model itself
// belongs to the worker, and a switch goes through Inspector.openModel.
// Its buttons act through modelHost.
type modelPanel struct {
	host modelHost

	manifest *inference.Manifest
	source   string    // where the model was loaded from, as the engine names it
	path     string    // what opening it again takes
	previous *modelRef // the model before the last switch, nil before any
	gen      int       // counts model switches, to tell stale results
	details  string    // the whole provenance, for Details…
	// signOff is the model's sign-off on this station (nil: none)
	signOff *station.SignOff

	name, hash, desc, from                 *widget.Label
	detailsBtn, openBtn, teachBtn, backBtn *widget.Button
}

// modelHost is what the model panel's buttons need of the window. The
// Inspector implements it.
type modelHost interface {
	// canOpenModel says the window may open other models
	// (Options.OpenModel): Open model…, Teach, Learn and Back are offered.
	canOpenModel() bool
	// canTeach and canLearn say Teach good steel… and Learn from
	// decisions… are offered.
	canTeach() bool
	canLearn() bool
	showModelDetails()
	showModelDialog()
	showTeach()
	showLearn()
	backToPrevious()
}

// modelRef is a model the window can open again.
type modelRef struct {
	path string // handed to Options.OpenModel
	name string // name and version, for people
}

func newModelPanel(host modelHost, m Analyzer) *modelPanel {
	p := &modelPanel{host: host}
	if m != nil {
		p.manifest, p.source, p.path = m.Manifest(), m.Source(), m.Source()
	}
	return p
}

// title is the model's name and version, for people.
func (p *modelPanel) title() string {
	if p.manifest == nil {
		return "no model"
	}
	return fmt.Sprintf("%s %s", p.manifest.Name, p.manifest.Version)
}

func (i *Inspector) modelName() string { return i.models.title() }

// canOpenModel says the window may open other models (modelHost).
func (i *Inspector) canOpenModel() bool { return i.opts.OpenModel != nil }

// build makes the panel: the model's facts in a bounded scrolling box and
// the actions this window offers.
func (p *modelPanel) build() fyne.CanvasObject {
	h := p.host
	p.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.name.Wrapping = fyne.TextWrapBreak
	p.hash = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	p.desc = widget.NewLabel("")
	p.desc.Wrapping = fyne.TextWrapWord
	p.from = widget.NewLabel("")
	p.from.Wrapping = fyne.TextWrapBreak
	p.from.Importance = widget.LowImportance
	// The provenance (what the model was trained on, how it does on real
	// steel) is long: it scrolls in a bounded box, with the model's name
	// and source, instead of setting the window's minimum height (the
	// window fits a 1280×720 screen).
	about := container.NewVScroll(container.NewVBox(p.name, p.hash, p.desc, p.from))
	about.SetMinSize(fyne.NewSize(0, 150))
	p.detailsBtn = widget.NewButtonWithIcon("Details…", theme.InfoIcon(), h.showModelDetails)
	objs := []fyne.CanvasObject{heading("Model"), about, p.detailsBtn}
	p.openBtn = widget.NewButtonWithIcon("Open model…", theme.StorageIcon(), h.showModelDialog)
	p.teachBtn = widget.NewButtonWithIcon("Teach good steel…", theme.ContentAddIcon(), h.showTeach)
	p.backBtn = widget.NewButtonWithIcon("Back", theme.ContentUndoIcon(), h.backToPrevious)
	p.backBtn.Hide()
	if h.canOpenModel() {
		objs = append(objs, p.openBtn)
		if h.canTeach() {
			objs = append(objs, p.teachBtn)
		}
		if h.canLearn() {
			objs = append(objs, widget.NewButtonWithIcon("Learn from decisions…", theme.ContentAddIcon(), h.showLearn))
		}
		objs = append(objs, p.backBtn)
	}
	return container.NewVBox(objs...)
}

// refresh shows the model in use: at a glance on the panel, the rest in
// Details….
func (p *modelPanel) refresh() {
	m := p.manifest
	if m == nil {
		p.name.SetText("No model")
		return
	}
	p.name.SetText(fmt.Sprintf("%s %s", m.Name, m.Version))
	p.hash.SetText("sha256 " + m.Identity().ShortHash())
	desc := []string{"Variant: per-patch (one run per patch)"}
	if m.WholeStrip() {
		desc[0] = "Variant: whole-strip (one run per strip)"
	}
	if d := m.Provenance.Description; d != "" {
		desc = append(desc, d)
	}
	if d := m.Provenance.TrainedOn; d != "" {
		desc = append(desc, "Trained on: "+d)
	}
	if d := m.Provenance.RealSteel; d != "" {
		desc = append(desc, "On real steel: "+d)
	}
	passesNothing := m.PassesNothing()
	if passesNothing {
		desc = append(desc, passesNothingText)
	}
	if f := m.Familiarity; f != nil {
		desc = append(desc, fmt.Sprintf("Strips unlike its training strips (familiarity above %.2f) go to review", f.Limit))
	} else {
		desc = append(desc, "No familiarity statistics: this model decides on every strip, however unlike its training strips")
	}
	if d := m.Provenance.Date; d != "" {
		desc = append(desc, "Date: "+d)
	}
	// At a glance, two short lines that fit: whether the model was checked
	// on this line and with what figures, and what it is; the rest is
	// behind Details…
	check := "Not checked on this line: defect recall unknown"
	if p.signOff != nil && p.signOff.Checked {
		check = "Checked on this line: " + p.signOff.Figures
	}
	short := []string{check}
	switch {
	case passesNothing:
		short = append(short, "It passed no held-out strip at its default thresholds: the rest goes to review (Details…)")
	case m.IsLearned():
		// a station model learned from labels, not taught on good strips
		on := m.LearnedOn()
		short = append(short, fmt.Sprintf("Learned from %d labelled strips of %s", on.Strips, on.Folder))
	case m.Anomaly != nil:
		short = append(short, fmt.Sprintf("Taught on %d good strips of %s", m.Anomaly.Taught.Strips, m.Anomaly.Taught.Folder))
	case m.Provenance.RealSteel != "":
		short = append(short, "Measured on real steel elsewhere: see Details…")
	default:
		short = append(short, "Not measured on real steel")
	}
	p.desc.SetText(strings.Join(short, "\n"))
	p.from.SetText(p.source)
	p.details = strings.Join(append(desc, "Source: "+p.source, metricsText(m)), "\n\n")
}

// passesNothingText tells the supervisor what to expect of a model that
// auto-passes nothing at its default thresholds, and what can change it.
const passesNothingText = "At its default thresholds it passed no held-out strip: every strip it does not reject goes to review. " +
	"Teach good steel… or Calibrate thresholds… on this line's strips can change that."

// metricsText lists a manifest's measured figures, one per line.
func metricsText(m *inference.Manifest) string {
	var lines []string
	for _, set := range []struct {
		name string
		vals map[string]any
	}{{"Held-out", m.Provenance.Metrics}, {"Held-out (wide style)", m.Provenance.MetricsWide},
		{"Validation", m.Provenance.MetricsValidation}, {"Named held-out sets", m.Provenance.MetricsHeldout}} {
		if len(set.vals) == 0 {
			continue
		}
		keys := make([]string, 0, len(set.vals))
		for k := range set.vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		lines = append(lines, set.name+":")
		for _, k := range keys {
			lines = append(lines, fmt.Sprintf("  %s: %v", k, set.vals[k]))
		}
	}
	return strings.Join(lines, "\n")
}

// refreshPrevious offers the previous model on the Back button.
func (p *modelPanel) refreshPrevious(canOpen bool) {
	if p.backBtn == nil {
		return
	}
	if p.previous == nil || !canOpen {
		p.backBtn.Hide()
	} else {
		p.backBtn.SetText(fitText("Back to "+p.previous.name, backBtnTextWidth))
		p.backBtn.Show()
	}
}

// switched makes m, opened from path, the model in use.
func (p *modelPanel) switched(manifest *inference.Manifest, source, path string) {
	p.previous = &modelRef{path: p.path, name: p.title()}
	p.manifest, p.source, p.path = manifest, source, path
	p.signOff = nil // the new model's comes from the trail (refreshValidation)
	p.gen++
	p.refresh()
}

// showModelDetails shows the model's whole provenance and figures.
func (i *Inspector) showModelDetails() {
	text := widget.NewLabel(i.models.details)
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Model: "+i.modelName(), "Close",
		container.NewVScroll(container.New(&fixedWidth{width: 640}, text)), i.win)
	d.Resize(fyne.NewSize(700, 600))
	i.trackDialog(d, d.Hide, d.Hide)
	d.Show()
}

// showModelDialog asks for a model file to switch to, after the PIN when
// the settings are locked.
func (i *Inspector) showModelDialog() {
	if i.busy > 0 || i.opts.OpenModel == nil {
		return
	}
	if i.isLocked() {
		i.askUnlock(i.showModelDialog)
		return
	}
	i.settings.touch()
	i.pickFile("Cannot open model", []string{".onnx", ".json"}, func(u fyne.URI) { i.openModel(u.Path()) })
}

// openModel switches to another model. A refused model leaves the current
// one in place; an accepted one replaces it on the worker, the old one is
// closed and the shown image is analysed again. When the new model's
// default thresholds differ from the station's, the supervisor chooses
// which to keep (askModelThresholds).
func (i *Inspector) openModel(path string) {
	if i.opts.OpenModel == nil {
		i.showError("Cannot open model", "this window was started without a way to open other models")
		return
	}
	if i.isLocked() {
		i.askUnlock(func() { i.openModel(path) })
		return
	}
	i.setStatus("Opening model " + filepath.Base(path) + "…")
	i.enqueue(func(done func()) {
		m, err := i.opts.OpenModel(path)
		if err != nil {
			i.do(func() {
				i.showError("Model refused", fmt.Sprintf("%s: %v\n\nStill using %s.", path, err, i.modelName()))
				i.refreshStatus()
				done()
			})
			return
		}
		if i.store != nil {
			i.do(func() { i.setStatus("Checking " + m.Manifest().Name + " on the station's check set…") })
		}
		check := i.checkModel(m)
		i.do(func() {
			done()
			i.refreshStatus()
			i.confirmModel(m, check, func(figures string) { i.switchModel(m, path, figures) })
		})
	})
}

// switchModel makes m, opened from path, the model in use: on the worker
// it replaces the old one (closed) and the shown strip is analysed again
// (a recorded one only for display: its record stays as it is); the
// switch and its sign-off (figures, "" unchecked) are recorded.
func (i *Inspector) switchModel(m Analyzer, path, figures string) {
	var cur *source
	recordedShown := false
	if it := i.currentItem(); it != nil && it.auditID == 0 {
		s := it.source()
		cur = &s
	} else if it != nil {
		recordedShown = true
	}
	oldModel := describeModel(i.models.manifest, i.models.source)
	i.enqueue(func(done func()) {
		i.work.swapModel(m)
		manifest, src := m.Manifest(), m.Source()
		var res inspected
		var aerr error
		if cur != nil {
			res, aerr = i.work.inspect(i.ctx, *cur, true)
		}
		i.do(func() {
			defer done()
			i.recordSetting("model", oldModel, describeModel(manifest, src))
			i.models.switched(manifest, src, path)
			i.recordSignOff(figures)
			i.reportSettings()
			i.refreshStatus()
			i.refreshPrevious()
			i.processed.refreshRows()
			i.askModelThresholds()
			if recordedShown {
				i.showItem(i.current)
				return
			}
			if cur == nil {
				i.refreshStatus()
				return
			}
			if aerr != nil {
				i.showError("Could not analyse "+cur.name, fmt.Sprintf("%s: %v", displayPath(*cur), aerr))
				i.refreshStatus()
				return
			}
			i.addResult(*cur, res, true)
		})
	})
}

// askModelThresholds asks, after a model switch, whether the station
// keeps its thresholds or takes the new model's defaults, when the two
// differ. Strips already recorded keep their decisions either way.
func (i *Inspector) askModelThresholds() {
	cur, def := i.settings.Thresholds(), i.modelDefaults()
	if cur == def {
		return
	}
	msg := fmt.Sprintf("%s recommends Auto-Pass %.2f and Auto-Reject %.2f; the station uses %.2f and %.2f.\n\n"+
		"Thresholds fitted for one model rarely suit another: take the model's defaults unless you have calibrated these for it. "+
		"Strips already recorded keep their decisions.", i.modelName(), def.Pass, def.Reject, cur.Pass, cur.Reject)
	i.messagesShown = append(i.messagesShown, "New model's thresholds: "+msg)
	take := func() {
		if i.isLocked() {
			i.setStatus("Settings are locked: thresholds unchanged")
			return
		}
		i.settings.SetThresholds(def.Pass, def.Reject, true)
		i.settings.Record()
	}
	d := dialog.NewConfirm("Thresholds for the new model", msg, func(ok bool) {
		if ok {
			take()
		}
	}, i.win)
	d.SetConfirmText(fmt.Sprintf("Use the model's %.2f / %.2f", def.Pass, def.Reject))
	d.SetDismissText(fmt.Sprintf("Keep %.2f / %.2f", cur.Pass, cur.Reject))
	i.trackDialog(d, func() { d.Hide(); take() }, d.Hide)
	d.Show()
}

// describeModel names a model for the settings audit.
func describeModel(m *inference.Manifest, src string) string {
	if m == nil {
		return src
	}
	id := m.Identity()
	return fmt.Sprintf("%s %s (sha256 %s) %s", id.Name, id.Version, id.ShortHash(), src)
}

// backToPrevious opens the model in use before the last switch again,
// through openModel (so it is recorded).
func (i *Inspector) backToPrevious() {
	if i.models.previous == nil || i.busy > 0 {
		return
	}
	i.openModel(i.models.previous.path)
}

// refreshPrevious offers the previous model in the model panel and the
// File menu.
func (i *Inspector) refreshPrevious() {
	i.models.refreshPrevious(i.opts.OpenModel != nil)
	i.win.SetMainMenu(i.buildMenu())
	i.refreshLock()
}
