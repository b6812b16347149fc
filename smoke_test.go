package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"steelinspect/audit"
	"steelinspect/internal/testimg"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWindowSmokeUnderXvfb builds the real binary, opens a strip in a real
// window on a virtual X display, lets it save the window after the first
// result (--screenshot) and checks the picture shows the verdict: the
// REJECT card's red and the green of clean patches.
func TestWindowSmokeUnderXvfb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the whole application")
	}
	xvfb := xvfbRun(t)
	dir := t.TempDir()
	bin := buildBinary(t)
	// Left 1100 columns black (auto-pass), the last 256 white (auto-reject).
	strip := image.NewGray(image.Rect(0, 0, 1600, 256))
	for y := 0; y < 256; y++ {
		for x := 1344; x < 1600; x++ {
			strip.Pix[y*strip.Stride+x] = 255
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, strip)
	stripPath := filepath.Join(dir, "strip.png")
	os.WriteFile(stripPath, buf.Bytes(), 0o644)

	shot := filepath.Join(dir, "window.png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := windowCommand(ctx, xvfb, "-a", "-s", "-screen 0 1400x900x24", bin,
		"--no-audit", "--model", filepath.Join("testdata", "models", "tiny-nchw.manifest.json"), "--screenshot", shot, stripPath)
	// Fresh preferences: saved thresholds from a user's session must not leak in.
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("window run: %v\n%s", err, out)
	}
	if keep := os.Getenv("STEELINSPECT_SMOKE_SHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(keep, data, 0o644)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 900 || b.Dy() < 500 {
		t.Fatalf("window is only %v", b)
	}
	red, green := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r > 180 && g < 90 && bl < 90 {
				red++
			}
			if g > r+30 && g > bl+15 && g > 60 {
				green++
			}
		}
	}
	if red < 500 || green < 5000 {
		t.Errorf("screenshot lacks the verdict: %d red and %d green pixels (want a REJECT card and green clean patches)", red, green)
	}
}

// TestHeadlessCommandsPrintOnlyTheirOwn runs the real binary under the C
// locales of services and containers: Fyne's initialisation used to print
// "Fyne error: Error parsing user locale C" on every command (issue 16).
func TestHeadlessCommandsPrintOnlyTheirOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole application")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	strip := filepath.Join(dir, "strip.png")
	if err := os.WriteFile(strip, testimg.StripPNG(0, 0, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join("testdata", "models", "tiny-nchw.manifest.json")
	for _, locale := range [][]string{
		{"LANG=C.UTF-8"}, {"LANG=C"}, {"LC_ALL=C.UTF-8"}, {"LC_ALL=POSIX"}, {"LANG=C.utf8", "LC_MESSAGES=C.UTF-8"},
	} {
		for _, args := range [][]string{{"version", "--model", model}, {"scan", "--model", model, strip}} {
			cmd := exec.Command(bin, args...)
			var env []string
			for _, kv := range os.Environ() {
				if name, _, _ := strings.Cut(kv, "="); name != "LANG" && name != "LANGUAGE" && !strings.HasPrefix(name, "LC_") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, locale...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v %v: %v\n%s", locale, args, err, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("%v steelinspect %s printed on stderr:\n%s", locale, args[0], stderr.String())
			}
		}
	}
}

// TestWatchScoresAPausedWriteOnceWhole runs the real `steelinspect watch`
// process on a folder and writes a strip into it the way cameras and
// network copies do: half, a 3-second pause, the rest. With a 1-second
// settle time the first half used to be scored and moved to ERROR, and the
// complete file then landed in ERROR unscored (issue 16).
func TestWatchScoresAPausedWriteOnceWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole application and waits for a paused writer")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	hot := filepath.Join(dir, "hot")
	if err := os.Mkdir(hot, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "watch", hot, "--no-audit", "--settle", "1s",
		"--model", filepath.Join("testdata", "models", "tiny-nchw.manifest.json"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	data := testimg.JPEG(testimg.TexturedStrip(1600, 256, 1344, 1600, 255))
	f, err := os.Create(filepath.Join(hot, "cam-0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[:len(data)/2])
	f.Sync()
	time.Sleep(3 * time.Second) // the writer pauses: three settle times
	f.Write(data[len(data)/2:])
	f.Close()

	var moved []string
	for deadline := time.Now().Add(time.Minute); len(moved) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		moved, _ = filepath.Glob(filepath.Join(hot, "*", "cam-0001*"))
	}
	time.Sleep(2 * time.Second) // anything else it would do to the file happens now
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	moved, _ = filepath.Glob(filepath.Join(hot, "*", "cam-0001*"))
	if len(moved) != 1 || filepath.Base(filepath.Dir(moved[0])) == "ERROR" {
		t.Fatalf("after a paused write the hot folder holds %v; want the strip once, decided\nstdout:\n%s\nstderr:\n%s", moved, stdout.String(), stderr.String())
	}
	if got, _ := os.ReadFile(moved[0]); !bytes.Equal(got, data) {
		t.Errorf("%s is %d bytes, the strip written is %d", moved[0], len(got), len(data))
	}
	if lines := strings.Count(strings.TrimSpace(stdout.String()), "\n") + 1; lines != 1 || !strings.Contains(stdout.String(), `"decision":"REJECT"`) {
		t.Errorf("watch reported %d results, want the one REJECT:\n%s", lines, stdout.String())
	}
}

// TestWindowFitsStationScreens starts the real window under Xvfb at
// 1280×720 and 1920×1080 and checks its picture: it fits the screen (at
// 1280×720 the starting 1360×860 window used to hang off it, the status
// bar and the right-hand panel unseen), and its status bar, the last rows,
// carries text (issue 17).
func TestWindowFitsStationScreens(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the whole application")
	}
	xvfb := xvfbRun(t)
	dir := t.TempDir()
	bin := buildBinary(t)
	strip := filepath.Join(dir, "strip.jpg")
	os.WriteFile(strip, testimg.JPEG(testimg.TexturedStrip(1600, 256, 1344, 1600, 255)), 0o644)
	for _, screen := range []image.Point{{1280, 720}, {1920, 1080}} {
		shot := filepath.Join(dir, fmt.Sprintf("window-%dx%d.png", screen.X, screen.Y))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := windowCommand(ctx, xvfb, "-a", "-s", fmt.Sprintf("-screen 0 %dx%dx24", screen.X, screen.Y), bin,
			"--no-audit", "--screenshot", shot, strip)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%v: window run: %v\n%s", screen, err, out)
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if b.Dx() > screen.X || b.Dy() > screen.Y {
			t.Errorf("on a %v screen the window is %v: it does not fit", screen, b.Size())
		}
		// the status bar's text: light pixels in the bottom 28 rows
		light := 0
		for y := b.Max.Y - 28; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Min.X+400; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 > 150 && g>>8 > 150 && bl>>8 > 150 {
					light++
				}
			}
		}
		if light < 20 {
			t.Errorf("on a %v screen the status bar shows no text (%d light pixels)", screen, light)
		}
	}
}

// built is the application built once for all the tests that run it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// buildBinary returns the application's binary, built on first use (every
// real-binary test runs the same build).
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "steelinspect-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "steelinspect")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// xvfbRun finds xvfb-run, skipping the test outside CI where it is missing.
func xvfbRun(t *testing.T) string {
	t.Helper()
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xvfb-run is missing; make deps installs it")
		}
		t.Skip("xvfb-run not installed (make deps installs it)")
	}
	return xvfb
}

// TestPreferencesEditedBehindTheStation runs the real window twice on one
// audit trail: between the runs the real Fyne preferences file is edited
// (thresholds 0.50 / 0.80), as someone with the station closed could. The
// second run keeps the recorded thresholds, writes them back into the
// file, and the trail records the attempt.
func TestPreferencesEditedBehindTheStation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the whole application")
	}
	xvfb := xvfbRun(t)
	dir := t.TempDir()
	bin := buildBinary(t)
	strip := filepath.Join(dir, "strip.png")
	os.WriteFile(strip, testimg.StripPNG(0, 0, 0), 0o644)
	db := filepath.Join(dir, "audit.db")
	runWindow := func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := windowCommand(ctx, xvfb, "-a", "-s", "-screen 0 1400x900x24", bin, "--db", db,
			"--model", filepath.Join("testdata", "models", "tiny-nchw.manifest.json"), "--screenshot", filepath.Join(dir, name), strip)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("window run: %v\n%s", err, out)
		}
	}
	runWindow("first.png")
	prefs, _ := filepath.Glob(filepath.Join(dir, "config", "fyne", "*", "preferences.json"))
	if len(prefs) != 1 {
		t.Fatalf("preferences files %v", prefs)
	}
	raw, err := os.ReadFile(prefs[0])
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("preferences %s: %v", raw, err)
	}
	p["thresholds.pass"], p["thresholds.reject"] = 0.5, 0.8
	edited, _ := json.Marshal(p)
	if err := os.WriteFile(prefs[0], edited, 0o644); err != nil {
		t.Fatal(err)
	}
	runWindow("second.png")

	store, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	changes, err := store.SettingChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range changes {
		found = found || (c.Setting == "preferences_outside_station" && strings.Contains(c.OldValue, "pass 0.50 reject 0.80"))
	}
	if !found {
		t.Errorf("the edit is not recorded: %+v", changes)
	}
	raw, _ = os.ReadFile(prefs[0])
	json.Unmarshal(raw, &p)
	if p["thresholds.pass"] != 0.4 || p["thresholds.reject"] != 0.65 {
		t.Errorf("preferences after the second run: %s", raw)
	}
	if v, err := store.Verify(context.Background()); err != nil || len(v.Problems) != 0 {
		t.Errorf("trail: %v %+v", err, v)
	}
}

// windowCommand runs the window under xvfb-run, in a process group of its
// own: when ctx ends, the whole group is killed (killing xvfb-run alone left
// the window running and holding the output pipe, and a hung window hung
// the test for its whole 30 minutes).
func windowCommand(ctx context.Context, xvfb string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, xvfb, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// TestWindowWithoutADisplaySaysSo: the window started where no display is
// set (a service, an ssh session) fails with one line that says why and
// what to use instead, not with the windowing library's panic.
func TestWindowWithoutADisplaySaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole application")
	}
	bin := buildBinary(t)
	strip := filepath.Join(t.TempDir(), "strip.png")
	if err := os.WriteFile(strip, testimg.StripPNG(0, 0, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--no-audit", "--model", filepath.Join("testdata", "models", "tiny-nchw.manifest.json"), strip)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "DISPLAY" && name != "WAYLAND_DISPLAY" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the window without a display: %v, want a failure\n%s", err, stderr.String())
	}
	out := strings.TrimSpace(stderr.String())
	if strings.Contains(out, "goroutine") || strings.Contains(out, "panic") || strings.Count(out, "\n") > 0 ||
		!strings.Contains(out, "no display") || !strings.Contains(out, "steelinspect scan") {
		t.Errorf("the window without a display said:\n%s\nwant one line naming the missing display and the headless commands", out)
	}
}
