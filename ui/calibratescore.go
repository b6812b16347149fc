package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/internal/files"
)

// The Calibrate screen's scored set: a labelled folder (or an images
// folder and a labels file) scored through the window's worker, with its
// progress and Cancel, the label problems found, and the plots saved of
// it. calibrate.go holds the screen and the pair chosen on it.

// modelChanged says whether the station has switched models since gen.
func (c *calibrateView) modelChanged(gen int) bool {
	now, _ := c.host.model()
	return now != gen
}

// askFolder picks a folder holding train_images/ and train.csv.
func (c *calibrateView) askFolder() {
	pickFolder(&c.keys, c.host.prefs(), func(err error) { c.showMessage("Cannot open folder", err.Error()) }, c.loadFolder)
}

// askPair picks the images folder, then the labels file.
func (c *calibrateView) askPair() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			c.showMessage("Cannot open folder", err.Error())
			return
		}
		if u == nil {
			return
		}
		images := u.Path()
		f := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil {
				c.showMessage("Cannot open labels", err.Error())
				return
			}
			if r == nil {
				return
			}
			labels := r.URI().Path()
			r.Close()
			c.load(images, labels)
		}, c.win)
		f.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
		if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(images))); err == nil {
			f.SetLocation(l)
		}
		f.Resize(fyne.NewSize(900, 600))
		c.keys.fileDialog(f)
		f.Show()
	}, c.win)
	c.startIn(d)
	d.Resize(fyne.NewSize(900, 600))
	c.keys.fileDialog(d)
	d.Show()
}

func (c *calibrateView) startIn(d *dialog.FileDialog) { startInLastDir(d, c.host.prefs()) }

// loadFolder scores a folder in the Severstal layout.
func (c *calibrateView) loadFolder(dir string) {
	images, labels := filepath.Join(dir, "train_images"), filepath.Join(dir, "train.csv")
	var missing []string
	if st, err := os.Stat(images); err != nil || !st.IsDir() {
		missing = append(missing, "train_images/")
	}
	if st, err := os.Stat(labels); err != nil || st.IsDir() {
		missing = append(missing, "train.csv")
	}
	if len(missing) > 0 {
		c.showMessage("Not a labelled folder",
			fmt.Sprintf("%s lacks %s.\n\nChoose a folder holding train_images/ and train.csv, or choose the images and the CSV separately.",
				dir, strings.Join(missing, " and ")))
		return
	}
	c.load(images, labels)
}

// load reads the labels and scores the images in the background through
// the window's worker, which owns the model. Label problems stop it
// before any scoring: a strip whose row was refused would otherwise count
// as defect-free.
func (c *calibrateView) load(imagesDir, labelsPath string) {
	h := c.host
	c.stop()
	c.run++
	run := c.run
	ctx, cancel := context.WithCancel(h.lifetime())
	c.cancel = cancel
	gen, name := h.model()
	thr := h.stationThresholds()
	c.clearReport() // the view shows the set its source line names, or nothing
	c.source.SetText(fmt.Sprintf("Images %s · labels %s", imagesDir, labelsPath))
	c.progress.SetValue(0)
	c.progressInfo.SetText("Reading labels…")
	c.progressBox.Show()
	c.refreshButtons()

	var done atomic.Int64
	an := &progressAnalyzer{workerAnalyzer: h.scorer()}
	an.onScored = func() {
		n := done.Add(1)
		h.onUI(func() {
			if c.run == run && c.cancel != nil {
				c.showProgress(int(n), an.total)
			}
		})
	}
	h.goBackground(func() func() {
		defer cancel()
		labels, err := evaluate.ReadLabelsFile(labelsPath)
		if err != nil {
			return func() {
				if c.run != run {
					return
				}
				c.finishRun()
				c.showLabelProblems(labelsPath, err)
			}
		}
		an.total = countImages(imagesDir)
		h.onUI(func() {
			if c.run == run && c.cancel != nil {
				c.showProgress(0, an.total)
			}
		})
		report, err := evaluate.Run(ctx, an, imagesDir, labels, thr, 0)
		var conf []float64
		var def []bool
		var sweep []evaluate.StripOutcome
		if err == nil {
			conf, def = scoredStrips(report)
			sweep = evaluate.Sweep(conf, def)
		}
		return func() {
			if c.run != run {
				return
			}
			c.finishRun()
			switch {
			case errors.Is(err, context.Canceled):
				c.summary.SetText("Scoring was cancelled; nothing was measured.")
			case err != nil:
				c.showMessage("Cannot score the labelled set", err.Error())
			case c.modelChanged(gen):
				c.showMessage("Model changed while scoring", "The station switched models during scoring, so the scores mix two models. Score the set again.")
			default:
				c.setReport(report, conf, def, sweep, gen, name)
			}
		}
	})
}

// stop cancels scoring in progress.
func (c *calibrateView) stop() {
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *calibrateView) finishRun() {
	c.cancel = nil
	c.progressBox.Hide()
	c.refreshButtons()
}

func (c *calibrateView) showProgress(done, total int) {
	if total > 0 {
		c.progress.SetValue(float64(done) / float64(total))
	}
	c.progressInfo.SetText(fmt.Sprintf("Scoring %d of %d strips…", done, total))
}

// countImages counts the files evaluate.Run will score, for the progress
// bar.
func countImages(dir string) int {
	n := 0
	for _, f := range files.ListImages(dir, false) {
		if f.Err == nil {
			n++
		}
	}
	return n
}

// scoredStrips are the confidences and truths of the strips that scored.
func scoredStrips(r *evaluate.Report) ([]float64, []bool) {
	var conf []float64
	var def []bool
	for _, s := range r.Strips {
		if s.Error == "" {
			conf, def = append(conf, s.Confidence), append(def, s.Defective)
		}
	}
	return conf, def
}

// showLabelProblems lists every refused line of the labels file.
func (c *calibrateView) showLabelProblems(path string, err error) {
	lines := strings.Split(err.Error(), "\n")
	const most = 200
	shown := lines
	if len(shown) > most {
		shown = append(shown[:most:most], fmt.Sprintf("… and %d more", len(lines)-most))
	}
	c.summary.SetText(fmt.Sprintf("%s was refused: %d problem(s). Nothing was scored.", filepath.Base(path), len(lines)))
	c.showMessage(fmt.Sprintf("Problems in %s", filepath.Base(path)),
		fmt.Sprintf("%s\n\nFix these lines and load the set again; a refused row would count its strip wrongly.", strings.Join(shown, "\n")))
}

// setReport takes a scored set and shows it at the station's thresholds.
func (c *calibrateView) setReport(r *evaluate.Report, conf []float64, def []bool, sweep []evaluate.StripOutcome, gen int, model string) {
	c.report, c.confidence, c.defective, c.sweep = r, conf, def, sweep
	c.modelGen, c.modelName, c.suggested = gen, model, nil
	c.hist.setData(conf, def)
	defects := 0
	for _, d := range def {
		if d {
			defects++
		}
	}
	text := fmt.Sprintf("%d strips scored with %s: %d defective, %d defect-free.", len(conf), model, defects, len(conf)-defects)
	if len(r.Notes) > 0 {
		text += " " + strings.Join(r.Notes, "; ") + "."
	}
	if len(r.Problems) > 0 {
		text += fmt.Sprintf(" %d problem(s) left out of the counts.", len(r.Problems))
		c.showMessage(fmt.Sprintf("%d strip(s) left out", len(r.Problems)), strings.Join(r.Problems, "\n"))
	}
	c.summary.SetText(text)
	c.progressInfo.SetText("")
	c.setPair(r.Thresholds)
	c.refresh()
}

// clearReport forgets the scored set.
func (c *calibrateView) clearReport() {
	c.report, c.confidence, c.defective, c.sweep = nil, nil, nil, nil
	c.suggested = nil
	c.suggestion.SetText(suggestHelp)
	c.summary.SetText("")
	c.hist.setData(nil, nil)
	c.setPair(c.thresholds)
	c.refreshButtons()
}

// askPlots saves the report's figures at the chosen pair.
func (c *calibrateView) askPlots() {
	if c.report == nil {
		return
	}
	pickFolder(&c.keys, c.host.prefs(), func(err error) { c.showMessage("Cannot save plots", err.Error()) }, c.savePlots)
}

// savePlots writes evaluate.WritePlots's PNGs, drawn at the chosen pair,
// off the UI goroutine.
func (c *calibrateView) savePlots(dir string) {
	r := *c.report // the figures depend on the strips and the pair only
	r.Thresholds = c.thresholds
	r.Strip = c.outcome
	c.plotsBtn.Disable()
	c.host.goBackground(func() func() {
		files, err := evaluate.WritePlots(&r, dir)
		return func() {
			c.refreshButtons()
			if err != nil {
				c.showMessage("Cannot save plots", err.Error())
				return
			}
			names := make([]string, len(files))
			for k, f := range files {
				names[k] = filepath.Base(f)
			}
			c.progressInfo.SetText("")
			c.summary.SetText(fmt.Sprintf("Saved %s to %s.", strings.Join(names, ", "), dir))
		}
	})
}

// progressAnalyzer scores through the window's worker and counts strips.
type progressAnalyzer struct {
	workerAnalyzer
	total    int
	onScored func()
}

func (p *progressAnalyzer) AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error) {
	a, err := p.workerAnalyzer.AnalyzeFile(ctx, path)
	if p.onScored != nil {
		p.onScored()
	}
	return a, err
}
