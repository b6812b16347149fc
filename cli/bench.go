package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/internal/files"
)

// Cyclomatic complexity above 15, kept: a command read top to bottom: flags, their checks, each measured stage and the optional comparisons.
//
//gocyclo:ignore
func runBench(args []string, env Env) error {
	var common commonFlags
	fs := newFlagSet("bench", env)
	common.register(fs)
	n := fs.Int("n", 60, "strips to score (the images are cycled)")
	imagesDir := fs.String("images", "assets/demo", "`folder` of strips to score")
	comparePython := fs.Bool("compare-python", false, "also time PyTorch eager (Debian's python3-torch) on the same patches")
	checkpoint := fs.String("checkpoint", "", "PyTorch checkpoint for --compare-python (default: random weights, same cost)")
	threads := fs.Int("threads", 0, "ONNX Runtime intra-op threads (0: one per CPU)")
	optLevel := fs.String("opt-level", "all", "ONNX Runtime graph optimisation `level` to measure: "+strings.Join(inference.OptimizationLevels, ", "))
	noArena := fs.Bool("no-arena", false, "measure without ONNX Runtime's CPU memory arena")
	noSpin := fs.Bool("no-spin", false, "measure with ONNX Runtime's worker threads not spinning between runs")
	profileDir := fs.String("profile", "", "also profile the model with ONNX Runtime, writing the trace into this `folder`, and print the time per operator type")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *n < 1 {
		return fmt.Errorf("%w: usage: steelinspect bench [--model M] [--n 60] [--images DIR] [--compare-python]", errUsage)
	}
	files, err := benchImages(*imagesDir)
	if err != nil {
		return err
	}
	data := make([][]byte, len(files))
	for i, f := range files {
		if data[i], err = os.ReadFile(f); err != nil {
			return err
		}
	}
	if *threads < 0 {
		return fmt.Errorf("%w: --threads must be 0 or more", errUsage)
	}
	tuning := inference.EngineOptions{Threads: *threads, Optimization: *optLevel, NoMemArena: *noArena, NoSpin: *noSpin}
	opened := time.Now()
	e, err := common.openWith(tuning)
	if err != nil {
		return err
	}
	defer e.Close()
	openMS := float64(time.Since(opened).Microseconds()) / 1e3
	m := e.Manifest()
	ctx := context.Background()
	// Warm-up: the first run allocates ONNX Runtime's buffers.
	if _, err := e.AnalyzeBytes(ctx, files[0], data[0]); err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	var decode, prep, model, decide, total []float64
	start := time.Now()
	for i := 0; i < *n; i++ {
		k := i % len(files)
		a, err := e.AnalyzeBytes(ctx, files[k], data[k])
		if err != nil {
			return fmt.Errorf("%s: %w", files[k], err)
		}
		t0 := time.Now()
		if _, err := a.Decide(m.DefaultThresholds); err != nil {
			return err
		}
		d := float64(time.Since(t0).Nanoseconds()) / 1e6
		decode = append(decode, a.Timings.DecodeMS)
		prep = append(prep, a.Timings.InferenceMS-a.Timings.ModelMS)
		model = append(model, a.Timings.ModelMS)
		decide = append(decide, d)
		total = append(total, a.Timings.TotalMS+d)
	}
	sequential := float64(*n) / time.Since(start).Seconds()
	pipelined, err := benchPipelined(ctx, e, files, *n)
	if err != nil {
		return err
	}
	lib, ver, _ := inference.RuntimeInfo()
	w := env.Stdout
	fmt.Fprintf(w, "model %s %s (%s), ONNX Runtime %s (%s), %d CPUs, GOMAXPROCS %d, %d ONNX Runtime thread(s)\n",
		m.Name, m.Version, m.Identity().ShortHash(), ver, filepath.Base(lib), runtime.NumCPU(), runtime.GOMAXPROCS(0), e.Threads())
	fmt.Fprintf(w, "session: graph optimisation %s, memory arena %s, spinning %s; opened in %.0f ms\n",
		*optLevel, onOff(!*noArena), onOff(!*noSpin), openMS)
	fmt.Fprintf(w, "%d strips from %s (%d files, %d patches each)\n\n", *n, *imagesDir, len(files), len(inference.TilePatches(1600, 256, m.Input.PatchSize, m.Input.Stride)))
	fmt.Fprintf(w, "%-22s %10s %10s\n", "ms per strip", "median", "p95")
	for _, row := range []struct {
		name string
		v    []float64
	}{{"decode", decode}, {"tile + preprocess", prep}, {"model (ONNX Runtime)", model}, {"decide", decide}, {"end to end", total}} {
		fmt.Fprintf(w, "%-22s %10.3f %10.3f\n", row.name, quantile(row.v, 0.5), quantile(row.v, 0.95))
	}
	fmt.Fprintf(w, "\nbatch: %.1f strips/s one after another, %.1f strips/s with decoding overlapped\n", sequential, pipelined)
	if *profileDir != "" {
		if err := os.MkdirAll(*profileDir, 0o755); err != nil {
			return err
		}
		strips := min(*n, 20)
		ops, path, err := profileModel(&common, tuning, files, data, strips+1, *profileDir)
		if err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
		writeProfile(w, ops, path, strips+1)
	}
	if !*comparePython {
		return nil
	}
	py, err := benchPython(files, *checkpoint)
	if err != nil {
		return fmt.Errorf("--compare-python: %w", err)
	}
	goMedian := quantile(total, 0.5)
	fmt.Fprintf(w, "\nPyTorch %s eager, %d threads, same %d patches per strip: median %.1f ms, p95 %.1f ms (model only)\n",
		py.Torch, py.Threads, py.Patches, py.Median, py.P95)
	fmt.Fprintf(w, "speed-up: %.1f× (PyTorch model-only median / steelinspect end-to-end median)\n", py.Median/goMedian)
	return nil
}

// benchPipelined scores n strips the way `scan` does: the next file is
// read and decoded while the current one is in the model.
func benchPipelined(ctx context.Context, e *inference.Engine, files []string, n int) (float64, error) {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = files[i%len(files)]
	}
	start := time.Now()
	for p := range e.Pipeline(ctx, paths) {
		a, err := e.AnalyzePrepared(ctx, p)
		if err != nil {
			return 0, err
		}
		if _, err := a.Decide(e.Manifest().DefaultThresholds); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func benchImages(dir string) ([]string, error) {
	var strips []string
	for _, f := range files.ListImages(dir, false) {
		if f.Err != nil {
			return nil, fmt.Errorf("%w: --images: %s: %v", errUsage, f.Path, f.Err)
		}
		strips = append(strips, f.Path)
	}
	if len(strips) == 0 {
		return nil, fmt.Errorf("%w: no strips (JPEG, PNG, BMP or TIFF) in %s", errUsage, dir)
	}
	return strips, nil
}

type pythonBench struct {
	Torch   string  `json:"torch"`
	Threads int     `json:"threads"`
	Patches int     `json:"patches_per_strip"`
	Median  float64 `json:"ms_median"`
	P95     float64 `json:"ms_p95"`
}

// benchPython runs scripts/bench_torch.py with Debian's Python on the same
// strips.
func benchPython(files []string, checkpoint string) (*pythonBench, error) {
	script, err := findUp(filepath.Join("scripts", "bench_torch.py"))
	if err != nil {
		return nil, err
	}
	args := append([]string{script, "--repeat", "2", "--threads", fmt.Sprint(runtime.NumCPU())}, files...)
	if checkpoint != "" {
		args = append(args, "--checkpoint", checkpoint)
	}
	cmd := exec.Command("/usr/bin/python3", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s (is python3-torch installed? make deps)", err, strings.TrimSpace(lastLine(stderr.String())))
	}
	var res pythonBench
	if err := json.Unmarshal([]byte(lastLine(string(out))), &res); err != nil {
		return nil, fmt.Errorf("unreadable result %q", out)
	}
	return &res, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// findUp looks for rel in the working directory and its parents.
func findUp(rel string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New(rel + " not found in the working directory or its parents")
		}
	}
}

// quantile returns the q-th quantile (nearest rank) of v.
func quantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
