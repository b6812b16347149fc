package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"steelinspect/inference"
)

// opProfile is the time one kind of operator took in an ONNX Runtime
// profile.
type opProfile struct {
	Op      string
	Micros  int64
	Count   int
	Percent float64
}

// profileModel runs n strips through a profiling engine and returns ONNX
// Runtime's per-operator totals, largest first, with the profile's path.
func profileModel(common *commonFlags, opts inference.EngineOptions, files []string, data [][]byte, n int, dir string) ([]opProfile, string, error) {
	prefix := filepath.Join(dir, "steelinspect-profile")
	opts.ProfilePrefix = prefix
	e, err := common.openWith(opts)
	if err != nil {
		return nil, "", err
	}
	for i := 0; i < n; i++ {
		k := i % len(files)
		if _, err := e.AnalyzeBytes(context.Background(), files[k], data[k]); err != nil {
			e.Close()
			return nil, "", err
		}
	}
	if err := e.Close(); err != nil { // ONNX Runtime writes the profile here
		return nil, "", err
	}
	matches, _ := filepath.Glob(prefix + "*.json")
	if len(matches) == 0 {
		return nil, "", fmt.Errorf("ONNX Runtime wrote no profile under %s", dir)
	}
	sort.Strings(matches)
	path := matches[len(matches)-1]
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	ops, err := summariseProfile(f)
	return ops, path, err
}

// summariseProfile reads an ONNX Runtime profile (a JSON array of trace
// events) and totals the kernel time of each operator type.
func summariseProfile(r io.Reader) ([]opProfile, error) {
	var events []struct {
		Cat  string `json:"cat"`
		Name string `json:"name"`
		Dur  int64  `json:"dur"`
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.NewDecoder(r).Decode(&events); err != nil {
		return nil, fmt.Errorf("unreadable ONNX Runtime profile: %w", err)
	}
	byOp := map[string]*opProfile{}
	var total int64
	for _, ev := range events {
		if ev.Cat != "Node" || !strings.HasSuffix(ev.Name, "_kernel_time") || ev.Args.OpName == "" {
			continue
		}
		p := byOp[ev.Args.OpName]
		if p == nil {
			p = &opProfile{Op: ev.Args.OpName}
			byOp[ev.Args.OpName] = p
		}
		p.Micros += ev.Dur
		p.Count++
		total += ev.Dur
	}
	out := make([]opProfile, 0, len(byOp))
	for _, p := range byOp {
		if total > 0 {
			p.Percent = 100 * float64(p.Micros) / float64(total)
		}
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Micros > out[j].Micros })
	return out, nil
}

func writeProfile(w io.Writer, ops []opProfile, path string, strips int) {
	fmt.Fprintf(w, "\nwhere the model time goes (ONNX Runtime profile of %d strips, %s):\n", strips, path)
	fmt.Fprintf(w, "  %-28s %8s %12s %8s\n", "operator", "share", "ms/strip", "nodes")
	for _, p := range ops {
		if p.Percent < 0.5 {
			continue
		}
		fmt.Fprintf(w, "  %-28s %7.1f%% %12.2f %8d\n", p.Op, p.Percent, float64(p.Micros)/1000/float64(strips), p.Count/strips)
	}
}
