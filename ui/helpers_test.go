package ui

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"steelinspect/audit"
	"steelinspect/inference"
	"steelinspect/station"
)

const tinyModel = "../testdata/models/tiny-nchw.manifest.json"

// countingAnalyzer counts inference calls and closes of a real engine.
type countingAnalyzer struct {
	Analyzer
	calls  atomic.Int64
	closed atomic.Int64
}

func (c *countingAnalyzer) AnalyzeFile(ctx context.Context, path string) (inference.Analysis, error) {
	c.calls.Add(1)
	return c.Analyzer.AnalyzeFile(ctx, path)
}

func (c *countingAnalyzer) AnalyzeBytes(ctx context.Context, name string, data []byte) (inference.Analysis, error) {
	c.calls.Add(1)
	return c.Analyzer.AnalyzeBytes(ctx, name, data)
}

func (c *countingAnalyzer) Close() error {
	c.closed.Add(1)
	return c.Analyzer.Close()
}

func openCounting(t testing.TB, path string) *countingAnalyzer {
	t.Helper()
	e, err := inference.OpenModel(path, inference.EngineOptions{Threads: 1})
	if err != nil {
		t.Fatalf("open model %s: %v", path, err)
	}
	return &countingAnalyzer{Analyzer: e}
}

// harness runs an Inspector headless. The test goroutine plays the UI
// goroutine: background results queue up in ui and run when the test
// waits, so widgets are only ever touched from one goroutine.
type harness struct {
	t     testing.TB
	app   fyne.App
	ins   *Inspector
	model *countingAnalyzer
	ui    chan func()
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	return newHarnessOn(t, test.NewTempApp(t), opts)
}

// newHarnessOn is newHarness on an app the test prepared (its
// preferences, say).
func newHarnessOn(t testing.TB, app fyne.App, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, app: app, ui: make(chan func(), 1024)}
	if opts.Model == nil {
		h.model = openCounting(t, tinyModel)
		opts.Model = h.model
	}
	h.ins = newInspector(h.app, opts, func(f func()) { h.ui <- f })
	h.ins.Window().Resize(fyne.NewSize(1400, 900))
	t.Cleanup(func() {
		h.ins.Close()
		h.ins.Window().Close()
	})
	h.waitIdle()
	return h
}

// waitIdle runs queued UI work until no job is pending.
func (h *harness) waitIdle() {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case f := <-h.ui:
			f()
			continue
		default:
		}
		if h.ins.busy == 0 && h.ins.pending == 0 {
			return
		}
		select {
		case f := <-h.ui:
			f()
		case <-deadline:
			h.t.Fatalf("background work did not finish (busy=%d, pending=%d)", h.ins.busy, h.ins.pending)
		}
	}
}

// openPaths loads files through the same path a drop takes.
func (h *harness) openPaths(paths ...string) {
	h.t.Helper()
	srcs := make([]source, len(paths))
	for k, p := range paths {
		srcs[k] = source{name: filepath.Base(p), path: p}
	}
	h.ins.open(srcs)
	h.waitIdle()
}

// bandStrip makes a 1600×256 strip of grey bg whose columns [x0,1600)
// have value v. The tiny model's patch probability is the mean
// brightness, so every patch's probability is known. Each level carries a
// one-pixel checkerboard of ±min(20, c, 255−c), which keeps every patch's
// mean and makes the strip plausible (a uniform frame goes to review).
func bandStrip(bg, v uint8, x0 int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	for y := range 256 {
		for x := range 1600 {
			c := int(bg)
			if x >= x0 {
				c = int(v)
			}
			amp := min(20, c, 255-c) * (1 - 2*((x+y)&1))
			img.Pix[y*img.Stride+x] = uint8(c + amp)
		}
	}
	return img
}

func writePNG(t testing.TB, dir, name string, img image.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type mouseAt struct{ desktop.MouseEvent }

// desktopMouse is a pointer event at a position inside a widget.
func desktopMouse(x, y float32) *mouseAt {
	m := &mouseAt{}
	m.Position = fyne.NewPos(x, y)
	return m
}

func newCellLabel() *widget.Label { return widget.NewLabel("") }

func tableCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }

func TestDisplayImageBounded(t *testing.T) {
	small := image.NewGray(image.Rect(0, 0, 1600, 256))
	if displayImage(small) != image.Image(small) {
		t.Error("a strip was copied for display")
	}
	big := displayImage(image.NewGray(image.Rect(0, 0, 9000, 1000)))
	if b := big.Bounds(); b.Dx() != displayMaxSide {
		t.Errorf("display copy %v, want width %d", b, displayMaxSide)
	}
}

// Test users of the stations the tests run.
const supervisorName, supervisorPassword = "sup", "sup-pw-1"

// unlockAsSupervisor makes a supervisor in the station's trail (once) and
// unlocks the settings as them, through the window's own check.
func (h *harness) unlockAsSupervisor() {
	h.t.Helper()
	ctx := context.Background()
	if ok, _ := h.ins.store.HasRole(ctx, audit.RoleSupervisor); !ok {
		if err := h.ins.store.AddUser(ctx, "test", supervisorName, audit.RoleSupervisor, supervisorPassword); err != nil {
			h.t.Fatal(err)
		}
	}
	h.ins.checkUser(supervisorName, supervisorPassword, h.ins.showError, nil)
	h.waitIdle()
	if h.ins.isLocked() {
		h.t.Fatalf("not unlocked: %q", h.ins.errorsShown)
	}
}

// confirmSwitch answers the sign-off dialog that comes before a model
// goes live on a station with a trail (Enter: switch), and checks it says
// want (the check set's figures, or that recall is unknown).
func (h *harness) confirmSwitch(want string) {
	h.t.Helper()
	h.waitIdle()
	shown := strings.Join(h.ins.messagesShown, "\n")
	if h.ins.topDialog() == nil || !strings.Contains(shown, "Before switching") || !strings.Contains(shown, want) {
		h.t.Fatalf("no sign-off dialog saying %q before the switch: %q", want, shown)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitFor("the switch to end", func() bool { return h.ins.pending == 0 && h.ins.busy == 0 })
	h.waitIdle()
}

// onTrail is a station of store's trail, no archive, for the window.
func onTrail(store *audit.Store) *station.Station { return station.FromParts(store, nil, nil) }
