package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"steelinspect/inference"
)

// A strip is known by its content: the sha256 of its bytes, as the audit
// trail records it. Opening a strip the Processed list holds already (the
// same file again, or the same content under another name) asks first
// whether to inspect it again; skipping records nothing.

// found is a source to inspect and the sha256 of its content ("" when it
// could not be read: its analysis says why).
type found struct {
	src source
	sha string
}

// repeat is a source whose content is a strip the window holds already.
type repeat struct {
	found
	prev *item
}

// contentHashes reads each source and hashes it, off the UI goroutine. A
// file is read as the engine reads it: a regular file of at most
// inference.MaxFileBytes; anything else gets no hash.
func contentHashes(ctx context.Context, srcs []source) []found {
	out := make([]found, len(srcs))
	for k, s := range srcs {
		out[k].src = s
		if ctx.Err() != nil {
			continue
		}
		if s.path == "" {
			out[k].sha = inference.SHA256Hex(s.data)
			continue
		}
		out[k].sha, _ = fileSHA256(s.path)
	}
	return out
}

// fileSHA256 is the lower-case hex sha256 of a regular file of at most
// inference.MaxFileBytes, read without holding it in memory; it is opened
// without blocking, so a named pipe cannot hold the caller.
func fileSHA256(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := inference.RegularFileError(st.Mode(), "an image file"); err != nil {
		return "", err
	}
	if st.Size() > inference.MaxFileBytes {
		return "", fmt.Errorf("file is above %d MB", inference.MaxFileBytes>>20)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, inference.MaxFileBytes+1)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sortByContent splits what was opened into strips new to the window and
// strips it holds already (by content: the same file again, or the same
// bytes under another name). Two copies in one opening are two strips, as
// before.
func (i *Inspector) sortByContent(list []found) (fresh []found, again []repeat) {
	held := make(map[string]*item, len(i.processed.items))
	for _, it := range i.processed.items {
		if it.sha256 != "" {
			held[it.sha256] = it
		}
	}
	for _, f := range list {
		prev := held[f.sha]
		if f.sha == "" || prev == nil {
			fresh = append(fresh, f)
			continue
		}
		if idx, ok := i.processed.byKey[f.src.key()]; ok && i.processed.items[idx].sha256 == f.sha {
			prev = i.processed.items[idx] // the same file again: its own row
		}
		again = append(again, repeat{found: f, prev: prev})
	}
	return fresh, again
}

// openFound is open's second step, on the UI goroutine: strips new to the
// window are inspected; when some are held already, the window asks once
// for the whole opening.
func (i *Inspector) openFound(list []found, failures []string) {
	fresh, again := i.sortByContent(list)
	if len(again) == 0 {
		i.inspectFound(fresh, failures, "", nil)
		return
	}
	i.askReinspect(reinspectAsk{fresh: fresh, again: again, failures: failures})
}

// reinspectAsk is the question asked when an opening holds strips the
// window has already, and what each answer goes on with.
type reinspectAsk struct {
	fresh    []found
	again    []repeat
	failures []string

	dialog                  *dialog.CustomDialog
	reinspect, skip, cancel *widget.Button
	answered                bool
}

// askReinspect asks whether to inspect again the strips the window holds
// already: Re-inspect records a new inspection of each, Skip inspects only
// the new ones and records nothing for the others (Enter), Cancel opens
// nothing (Esc). The worker goes on meanwhile; nothing waits on the answer.
func (i *Inspector) askReinspect(q reinspectAsk) {
	ask := &q
	total := len(q.fresh) + len(q.again)
	title, text := reinspectQuestion(q.again, total)
	i.messagesShown = append(i.messagesShown, title+": "+text)
	label := widget.NewLabel(text)
	label.Wrapping = fyne.TextWrapWord
	them := "them"
	if len(q.again) == 1 {
		them = "it"
	}
	answer := func(f func()) func() {
		return func() {
			if ask.answered {
				return
			}
			ask.answered = true
			ask.dialog.Hide()
			if i.reinspectQ == ask {
				i.reinspectQ = nil
			}
			f()
		}
	}
	ask.reinspect = widget.NewButton("Re-inspect "+them, answer(func() { i.reinspectAnswered(ask, true) }))
	ask.skip = widget.NewButton("Skip "+them, answer(func() { i.reinspectAnswered(ask, false) }))
	ask.skip.Importance = widget.HighImportance
	ask.cancel = widget.NewButton("Cancel", answer(func() {
		i.setStatus(fmt.Sprintf("Nothing opened: %s not inspected.", describeFound(q.fresh, q.again)))
	}))
	ask.dialog = dialog.NewCustomWithoutButtons(title, container.New(&fixedWidth{width: 520}, label), i.win)
	ask.dialog.SetButtons([]fyne.CanvasObject{ask.cancel, ask.reinspect, ask.skip})
	i.trackDialog(ask.dialog, ask.skip.OnTapped, ask.cancel.OnTapped)
	i.reinspectQ = ask
	i.setStatus(title + ": inspect again or skip?")
	ask.dialog.Show()
	// a --screenshot run pictures the question as it stands: it would
	// otherwise wait for an answer nobody gives, and never quit
	i.scheduleScreenshot()
}

// reinspectQuestion is the dialog's title and text.
func reinspectQuestion(again []repeat, total int) (title, text string) {
	const after = "Re-inspecting records a new inspection of each in the audit trail; " +
		"skipping records nothing and keeps the strip's row and decision as they are."
	if total == 1 && len(again) == 1 {
		r := again[0]
		return "Inspected already",
			fmt.Sprintf("%s was inspected already (same content as %s in the Processed list, %s). %s",
				r.src.name, r.prev.name, r.prev.final(), after)
	}
	names := make([]string, 0, 4)
	for k, r := range again {
		if k == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(again)-3))
			break
		}
		names = append(names, r.src.name)
	}
	return "Inspected already", fmt.Sprintf("%d of the %d strips were inspected already (same content as strips in the Processed list): %s. %s",
		len(again), total, strings.Join(names, ", "), after)
}

// reinspectAnswered goes on with the opening once asked: the new strips
// are inspected, and the known ones too when re-inspecting; the new
// result of a known strip replaces its row, whatever its name now.
func (i *Inspector) reinspectAnswered(q *reinspectAsk, reinspect bool) {
	list := q.fresh
	if reinspect {
		prev := make(map[string]*item, len(q.again))
		for _, r := range q.again {
			list = append(list, r.found)
			prev[r.src.key()] = r.prev
		}
		i.inspectFound(list, q.failures, "", prev)
		return
	}
	skipped := fmt.Sprintf("%s inspected already: skipped, nothing recorded", plural(len(q.again), "strip", "strips"))
	if len(list) > 0 || len(q.failures) > 0 {
		i.inspectFound(list, q.failures, " ("+skipped+")", nil)
		return
	}
	// nothing new: show the strip that was opened again, as it stands
	if idx := i.processed.indexOf(q.again[0].prev); idx >= 0 {
		i.showItem(idx)
	}
	i.setStatus(fmt.Sprintf("%s in the Processed list already: not inspected again, nothing recorded.",
		describeFound(nil, q.again)))
}

// describeFound names one strip, or counts several.
func describeFound(fresh []found, again []repeat) string {
	if len(fresh)+len(again) != 1 {
		return plural(len(fresh)+len(again), "strip", "strips")
	}
	if len(fresh) == 1 {
		return fresh[0].src.name
	}
	return again[0].src.name
}

// whenRestored runs f now, or once the shift being restored from the
// audit trail is in the Processed list: strips opened at start (from the
// command line) are compared with it.
func (i *Inspector) whenRestored(f func()) {
	if !i.restoring {
		f()
		return
	}
	i.afterRestore = append(i.afterRestore, f)
}

// restored runs what waited for the restored shift.
func (i *Inspector) restored() {
	i.restoring = false
	waiting := i.afterRestore
	i.afterRestore = nil
	for _, f := range waiting {
		f()
	}
}

// reinspectCurrent inspects the shown strip again with the model and
// thresholds in force, recorded as a new inspection; its card then shows
// that one.
func (i *Inspector) reinspectCurrent() {
	it := i.currentItem()
	if it == nil {
		return
	}
	s := it.source()
	i.setStatus(fmt.Sprintf("Inspecting %s again with the current model…", s.name))
	ctx := i.ctx
	i.enqueue(func(done func()) {
		res, err := i.work.inspect(ctx, s, true)
		i.do(func() {
			defer done()
			if err != nil {
				i.showError("Could not inspect "+s.name+" again", err.Error())
				return
			}
			i.addResult(s, res, true)
		})
	})
}
