package ui

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"steelinspect/inference"
	"steelinspect/report"
	"steelinspect/verdict"
)

// reportJob is what writing one report needs, copied off the UI's state so
// a background goroutine can use it.
type reportJob struct {
	src      source
	analysis *inference.Analysis
	auditID  int64
	at       time.Time
	review   *operatorReview
	path     string // where the report goes
}

func (i *Inspector) reportJobOf(it *item) reportJob {
	j := reportJob{src: it.source(), analysis: it.analysis, auditID: it.auditID, at: it.inspectedAt}
	if it.review != nil {
		r := *it.review
		j.review = &r
	}
	return j
}

// reportName is the default file name of a strip's report.
func reportName(name string) string {
	return strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)) + ".report.png"
}

// saveReportDialog saves the shown strip's report where the user says.
func (i *Inspector) saveReportDialog() {
	it := i.currentItem()
	if it == nil || it.analysis == nil {
		i.showError("No report to save", "open a strip first")
		return
	}
	job := i.reportJobOf(it)
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			i.showError("Cannot save report", err.Error())
			return
		}
		if w == nil {
			return
		}
		job.path = w.URI().Path()
		w.Close()
		i.saveReports([]reportJob{job})
	}, i.win)
	d.SetFileName(reportName(it.name))
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png"}))
	// beside the strip it reports on, else where the user last was
	if it.path == "" || !startInDir(d, filepath.Dir(it.path)) {
		i.startIn(d)
	}
	d.Resize(fyne.NewSize(900, 600))
	i.keys.fileDialog(d)
	d.Show()
}

// saveAllReportsDialog saves a report for every processed strip into a
// folder.
func (i *Inspector) saveAllReportsDialog() {
	if len(i.processed.items) == 0 {
		i.showError("No reports to save", "no strip has been inspected yet")
		return
	}
	pickFolder(&i.keys, i.app.Preferences(), func(err error) { i.showError("Cannot save reports", err.Error()) }, i.saveAllReports)
}

// saveAllReports writes <strip>.report.png into dir for every processed
// strip.
func (i *Inspector) saveAllReports(dir string) {
	jobs := make([]reportJob, 0, len(i.processed.items))
	for _, it := range i.processed.items {
		if it.analysis != nil {
			jobs = append(jobs, i.reportJobOf(it))
		}
	}
	used := map[string]int{}
	for k := range jobs {
		n := reportName(jobs[k].src.name)
		if c := used[n]; c > 0 {
			n = fmt.Sprintf("%s-%d.report.png", strings.TrimSuffix(n, ".report.png"), c)
		}
		used[reportName(jobs[k].src.name)]++
		jobs[k].path = filepath.Join(dir, n)
	}
	i.saveReports(jobs)
}

// saveReports renders and writes reports off the UI goroutine, decoding
// each strip again, and says how it went.
func (i *Inspector) saveReports(jobs []reportJob) {
	t := i.work.currentThresholds()
	i.setStatus(fmt.Sprintf("Saving %d report(s)…", len(jobs)))
	i.goBackground(func() func() {
		var failures []string
		saved := 0
		for k, j := range jobs {
			if i.ctx.Err() != nil {
				break
			}
			if err := writeReport(j, t); err != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", displayPath(j.src), err))
				continue
			}
			saved++
			if len(jobs) > 1 && k%20 == 0 {
				n := k + 1
				i.do(func() { i.setStatus(fmt.Sprintf("Saving reports: %d of %d…", n, len(jobs))) })
			}
		}
		return func() {
			if len(failures) > 0 {
				i.showError(fmt.Sprintf("Could not save %d of %d report(s)", len(failures), len(jobs)),
					strings.Join(failures, "\n"))
			}
			if len(jobs) == 1 && saved == 1 {
				i.setStatus("Report saved to " + jobs[0].path)
			} else {
				i.setStatus(fmt.Sprintf("Saved %d report(s).", saved))
			}
		}
	})
}

// writeReport decodes a strip, decides it with t and writes its report.
func writeReport(j reportJob, t verdict.Thresholds) error {
	img, err := decodeSource(j.src)
	if err != nil {
		return err
	}
	v, err := j.analysis.Decide(t)
	if err != nil {
		return err
	}
	// The display copy may be reduced: scale the patches with it.
	patches := j.analysis.Patches
	if w := img.Bounds().Dx(); w != j.analysis.Image.Width && j.analysis.Image.Width > 0 {
		s := float64(w) / float64(j.analysis.Image.Width)
		patches = make([]verdict.Patch, len(j.analysis.Patches))
		for k, p := range j.analysis.Patches {
			patches[k] = verdict.Patch{X: int(float64(p.X) * s), Y: int(float64(p.Y) * s),
				W: int(float64(p.W) * s), H: int(float64(p.H) * s), Probability: p.Probability}
		}
	}
	meta := report.Meta{FileName: displayPath(j.src), Model: j.analysis.Model, AuditID: j.auditID, InspectedAt: j.at}
	if r := j.review; r != nil {
		meta.OperatorDecision, meta.Operator, meta.ReviewedAt, meta.Reason = verdict.Some(r.decision), r.operator, r.at, r.reason
	}
	out := report.Render(img, patches, v, meta)
	f, err := os.Create(j.path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, out); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
