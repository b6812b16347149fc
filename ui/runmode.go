package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/verdict"
)

// Run mode is the floor's view of the station (View → Run mode, F11),
// apart from setup: a large tile with the shown strip's final decision,
// legible from 2 m (a headline a tenth of the window's height, reasons in
// 26-px text); the strip with its heatmap; the last 20 results as
// coloured tiles; the shift's counts; and an alarm for every REJECT and
// camera fault that stays until someone acknowledges it, with the count
// of unacknowledged ones. Settings, menus and file pickers are out of
// reach; leaving it takes a supervisor's sign-in on a station that has
// one. P, R and N still decide the shown strip.
type runMode struct {
	on    bool
	setup fyne.CanvasObject // the setup content while run mode shows

	tile     *canvas.Rectangle
	headline *canvas.Text
	reasons  *widget.Label
	strip    *stripView
	recent   *fyne.Container
	counts   *widget.Label
	alarm    *widget.Label
	ackBtn   *widget.Button
	// acked is how many strips of the Processed list (in arrival order)
	// the last acknowledgement covered.
	acked int
}

// recentTiles is how many results run mode shows as tiles.
const recentTiles = 20

// runReasonSize is run mode's text size for reasons and counts (≥ 24 px
// at 1080p, read from 2 m).
const runReasonSize = 26

// runTheme enlarges text for run mode.
type runTheme struct{ fyne.Theme }

func (t runTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return runReasonSize
	}
	return t.Theme.Size(n)
}

// toggleRunMode enters run mode, or leaves it (after a supervisor's
// sign-in on a station that has one).
func (i *Inspector) toggleRunMode() {
	if !i.run.on {
		i.enterRunMode()
		return
	}
	if i.store != nil && i.isLocked() && i.hasSupervisor() {
		i.askUnlock(i.leaveRunMode)
		return
	}
	i.leaveRunMode()
}

// hasSupervisor says whether the trail has a supervisor or admin who can
// sign in (a station without one cannot ask for a sign-in).
func (i *Inspector) hasSupervisor() bool {
	ok, err := i.store.HasRole(i.ctx, audit.RoleSupervisor)
	return err == nil && ok
}

func (i *Inspector) enterRunMode() {
	r := &i.run
	r.on, r.setup = true, i.win.Content()
	if r.tile == nil {
		i.buildRunMode()
	}
	i.win.SetMainMenu(nil)
	i.win.SetContent(i.runContent())
	i.refreshRunMode()
}

func (i *Inspector) leaveRunMode() {
	r := &i.run
	if !r.on {
		return
	}
	r.on = false
	i.win.SetContent(r.setup)
	i.win.SetMainMenu(i.buildMenu())
	i.refreshResult()
}

// runContent lays run mode out: the tile on top, the strip, then the
// recent results, the counts and the alarm.
func (i *Inspector) runContent() fyne.CanvasObject {
	r := &i.run
	head := container.NewStack(r.tile, container.NewPadded(container.NewVBox(r.headline, r.reasons)))
	bottom := container.NewVBox(r.recent, r.counts, container.NewBorder(nil, nil, nil, r.ackBtn, r.alarm))
	return container.NewThemeOverride(container.NewBorder(head, container.NewPadded(bottom), nil, nil, container.NewPadded(r.strip)),
		runTheme{i.app.Settings().Theme()})
}

func (i *Inspector) buildRunMode() {
	r := &i.run
	r.tile = canvas.NewRectangle(color.Transparent)
	r.tile.CornerRadius = 12
	r.headline = canvas.NewText("NO STRIP YET", theme.Color(theme.ColorNameDisabled))
	r.headline.TextStyle = fyne.TextStyle{Bold: true}
	r.headline.Alignment = fyne.TextAlignCenter
	r.reasons = widget.NewLabel("")
	r.reasons.Wrapping = fyne.TextWrapWord
	r.reasons.Alignment = fyne.TextAlignCenter
	r.strip = newStripView(func(int) {})
	r.recent = container.New(layout.NewGridLayoutWithColumns(recentTiles))
	r.counts = widget.NewLabel("")
	r.alarm = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.alarm.Wrapping = fyne.TextWrapWord
	r.ackBtn = widget.NewButtonWithIcon("Acknowledge", theme.ConfirmIcon(), i.acknowledgeAlarms)
}

// refreshRunMode shows the strip in view and the shift in run mode.
func (i *Inspector) refreshRunMode() {
	r := &i.run
	if !r.on {
		return
	}
	r.headline.TextSize = max(48, i.win.Canvas().Size().Height/10)
	it, a, v := i.currentItem(), i.currentAnalysis(), i.verdict
	if it == nil || v == nil || a == nil {
		r.headline.Text, r.headline.Color = "NO STRIP YET", theme.Color(theme.ColorNameDisabled)
		r.tile.FillColor = color.Transparent
		r.reasons.SetText("Strips appear here as they are inspected.")
		r.strip.setImage(nil)
	} else {
		final, _ := disposition(it, v)
		c := decisionColor(final)
		r.headline.Text, r.headline.Color = final.String()+"  "+it.name, c
		fill := c
		fill.A = 0x40
		r.tile.FillColor = fill
		action, _ := cardAction(it, final, v)
		r.reasons.SetText(runReasons(a, v, action))
		r.strip.setImage(it.display)
		r.strip.setImageSize(a.Image.Width, a.Image.Height)
		r.strip.setOverlay(i.strip.heatmapImage(a, v), a.Patches, v.Zones)
	}
	r.headline.Refresh()
	r.tile.Refresh()
	i.refreshRunTiles()
}

// runReasons says why the strip got its decision, in short lines, with
// the card's advice (cardAction). The score reads as on the card
// (scoreLines): a guess when a caution stands.
func runReasons(a *inference.Analysis, v *verdict.Verdict, action string) string {
	score, _ := scoreLines(v)
	lines := []string{fmt.Sprintf("%s%s — %s", score, likelyClassText(a, v), action)}
	for _, c := range a.Cautions {
		lines = append(lines, c.Reason)
	}
	return strings.Join(lines, "\n")
}

// refreshRunTiles redraws the last results, the counts and the alarm.
func (i *Inspector) refreshRunTiles() {
	r := &i.run
	recorded := slices.DeleteFunc(slices.Clone(i.processed.items), func(it *item) bool { return it.auditID == 0 })
	tiles := make([]fyne.CanvasObject, recentTiles)
	for k := range tiles {
		rect := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
		rect.CornerRadius = 4
		rect.SetMinSize(fyne.NewSize(20, 36))
		if n := len(recorded) - recentTiles + k; n >= 0 {
			rect.FillColor = decisionColor(recorded[n].final())
		}
		tiles[k] = rect
	}
	r.recent.Objects = tiles
	r.recent.Refresh()
	r.counts.SetText(strings.ReplaceAll(i.processed.summarize(time.Now()).String(), "\n", " · "))
	n, last := i.unacknowledged()
	if n == 0 {
		r.alarm.SetText("No alarm")
		r.alarm.Importance = widget.LowImportance
		r.ackBtn.Disable()
	} else {
		r.alarm.SetText(fmt.Sprintf("%d unacknowledged: %s", n, last))
		r.alarm.Importance = widget.DangerImportance
		r.ackBtn.Enable()
	}
	r.alarm.Refresh()
}

// unacknowledged counts the REJECTs and camera faults since the last
// acknowledgement and names the newest.
func (i *Inspector) unacknowledged() (int, string) {
	n, last := 0, ""
	for k := i.run.acked; k < len(i.processed.items); k++ {
		it := i.processed.items[k]
		if it.auditID == 0 {
			continue
		}
		fault := slices.Contains(it.cautions, verdict.CautionImplausible)
		if it.auto != verdict.Reject && !fault {
			continue
		}
		n++
		last = it.name + " REJECT"
		if fault {
			last = it.name + " camera or feed fault"
		}
	}
	return n, last
}

// acknowledgeAlarms clears the alarm for everything so far.
func (i *Inspector) acknowledgeAlarms() {
	i.run.acked = len(i.processed.items)
	i.refreshRunTiles()
}
