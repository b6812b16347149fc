package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"steelinspect/internal/files"
	"strings"
	"time"
)

// batchState is the queue of strips being inspected: everything opened,
// dropped or found in folders since the window was last idle. It belongs
// to the UI goroutine.
type batchState struct {
	ctx       context.Context // cancelled by Cancel; shared by the queued jobs
	cancel    context.CancelFunc
	total     int // strips queued
	done      int // strips finished (scored or failed)
	start     time.Time
	cancelled bool
}

// batchContext returns the running batch's context, starting a batch when
// none runs.
func (i *Inspector) batchContext() context.Context {
	b := &i.batch
	if b.ctx == nil || b.ctx.Err() != nil {
		b.ctx, b.cancel = context.WithCancel(i.ctx)
		b.total, b.done, b.cancelled = 0, 0, false
		b.start = time.Now()
	}
	return b.ctx
}

// batchQueued adds n strips found for the batch.
func (i *Inspector) batchQueued(n int) {
	i.batch.total += n
	i.refreshBatch()
}

// batchStep counts one strip finished.
func (i *Inspector) batchStep() {
	i.batch.done++
	i.refreshBatch()
}

// cancelBatch stops the batch after the strip being scored; strips already
// done stay in the processed list and the audit trail.
func (i *Inspector) cancelBatch() {
	if i.batch.cancel == nil || i.batch.ctx.Err() != nil {
		return
	}
	i.batch.cancelled = true
	i.batch.cancel()
	i.setStatus(fmt.Sprintf("Cancelling: %d of %d strips done…", i.batch.done, i.batch.total))
	i.refreshBatch()
}

// endBatch runs when the worker has nothing left to do.
func (i *Inspector) endBatch() {
	b := &i.batch
	if b.cancel != nil {
		b.cancel()
	}
	if b.cancelled {
		i.setStatus(fmt.Sprintf("Cancelled: %d of %d strips done.", b.done, b.total))
	}
	b.ctx, b.cancel = nil, nil
	i.refreshBatch()
}

// batchShown says whether the batch progress is on screen: for a batch of
// more than one strip.
func (i *Inspector) batchShown() bool { return i.batch.ctx != nil && i.batch.total > 1 }

// batchRate is strips per second so far and the time the rest will take.
func (b *batchState) rate(now time.Time) (perSec float64, left time.Duration, ok bool) {
	el := now.Sub(b.start).Seconds()
	if b.done == 0 || el <= 0 {
		return 0, 0, false
	}
	perSec = float64(b.done) / el
	left = time.Duration(float64(b.total-b.done) / perSec * float64(time.Second))
	return perSec, left, true
}

// refreshBatch updates the progress bar, its rate and time left, and the
// Cancel button.
func (i *Inspector) refreshBatch() {
	w := &i.w
	if w.batchBar == nil {
		return
	}
	b := &i.batch
	if !i.batchShown() {
		w.batchBox.Hide()
		return
	}
	if w.batchBox.Hidden {
		w.batchBox.Show()
		i.refreshBusy()
	}
	w.batchBar.Max = float64(b.total)
	w.batchBar.SetValue(float64(b.done))
	info := "starting…"
	if r, left, ok := b.rate(time.Now()); ok {
		info = fmt.Sprintf("%.1f strips/s · %s left", r, shortDuration(left))
	}
	w.batchInfo.SetText(info)
	if b.cancelled {
		w.cancelBtn.Disable()
	} else {
		w.cancelBtn.Enable()
	}
}

func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// expandSources replaces folders by the images in them and their
// subfolders, in name order. It runs on the worker. A folder without
// images, or one that cannot be read, is a failure to report.
func expandSources(ctx context.Context, srcs []source) ([]source, []string) {
	out := make([]source, 0, len(srcs))
	var failures []string
	for _, s := range srcs {
		if s.path == "" {
			out = append(out, s)
			continue
		}
		st, err := os.Stat(s.path)
		if err != nil || !st.IsDir() {
			out = append(out, s) // the analysis reports a missing file
			continue
		}
		var found []string
		for _, f := range files.ListImages(s.path, true) {
			if f.Err != nil {
				failures = append(failures, fmt.Sprintf("%s: skipped: %v", f.Path, f.Err))
				continue
			}
			found = append(found, f.Path)
		}
		if len(found) == 0 {
			failures = append(failures, fmt.Sprintf("%s: is a folder with no images (%s)", s.path,
				strings.Join(imageExtensions, " ")))
		}
		for _, p := range found {
			out = append(out, source{name: filepath.Base(p), path: p})
		}
	}
	return out, failures
}

// reviewCount counts the strips waiting for an operator (reviewHost).
func (i *Inspector) reviewCount() int { return i.processed.reviewCount() }
