// Command actrange measures the value range of a model's intermediate
// tensors over calibration inputs, for static INT8 quantisation
// (training/quantize.py). It runs the model through the same ONNX Runtime
// the application uses, so the ranges are those the quantised model will
// meet.
//
//	go run ./tools/actrange --model aug.onnx --shape 1,3,256,1600 --outputs names.txt --out ranges.json in/*.f32
//
// Each input file is raw little-endian float32 of the given shape (already
// preprocessed). names.txt lists one model output per line (the quantiser
// adds the tensors it wants measured as graph outputs). ranges.json maps
// each name to {"min", "max", "p_lo", "p_hi"}: the overall extremes, and the
// 0.01st and 99.99th percentiles of the values seen (from a 4096-bin
// histogram over the overall range, estimated on a subsample).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"steelinspect/inference"
)

type tensorRange struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	PLo  float64 `json:"p_lo"`
	PHi  float64 `json:"p_hi"`
	seen []float32
}

func main() {
	model := flag.String("model", "", "ONNX model whose extra outputs are the tensors to measure")
	shapeArg := flag.String("shape", "", "input shape, e.g. 1,3,256,1600")
	outputsFile := flag.String("outputs", "", "file listing the outputs to measure, one per line")
	out := flag.String("out", "ranges.json", "where to write the ranges")
	input := flag.String("input", "input", "the model's input name")
	lib := flag.String("ort-lib", "", "ONNX Runtime library (default: the application's search)")
	flag.Parse()
	if err := run(*model, *shapeArg, *outputsFile, *out, *input, *lib, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "actrange:", err)
		os.Exit(1)
	}
}

// Cyclomatic complexity above 15, kept: a developer tool's main loop, flags and refusals in order.
//
//gocyclo:ignore
func run(model, shapeArg, outputsFile, out, inputName, lib string, files []string) error {
	if model == "" || shapeArg == "" || outputsFile == "" || len(files) == 0 {
		return fmt.Errorf("need --model, --shape, --outputs and at least one input file")
	}
	var shape ort.Shape
	for _, s := range strings.Split(shapeArg, ",") {
		d, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || d < 1 {
			return fmt.Errorf("bad --shape %q", shapeArg)
		}
		shape = append(shape, d)
	}
	names, err := readLines(outputsFile)
	if err != nil {
		return err
	}
	if err := inference.InitRuntime(lib); err != nil {
		return err
	}
	session, err := ort.NewDynamicAdvancedSession(model, []string{inputName}, names, nil)
	if err != nil {
		return err
	}
	defer session.Destroy()
	buf := make([]float32, shape.FlattenedSize())
	in, err := ort.NewTensor(shape, buf)
	if err != nil {
		return err
	}
	defer in.Destroy()
	ranges := make([]*tensorRange, len(names))
	for i := range ranges {
		ranges[i] = &tensorRange{Min: math.Inf(1), Max: math.Inf(-1)}
	}
	for k, f := range files {
		if err := readFloats(f, buf); err != nil {
			return err
		}
		outs := make([]ort.Value, len(names))
		if err := session.Run([]ort.Value{in}, outs); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for i, v := range outs {
			t, ok := v.(*ort.Tensor[float32])
			if !ok {
				v.Destroy()
				return fmt.Errorf("output %s is not float32", names[i])
			}
			ranges[i].add(t.GetData())
			v.Destroy()
		}
		fmt.Fprintf(os.Stderr, "\r%d/%d inputs", k+1, len(files))
	}
	fmt.Fprintln(os.Stderr)
	result := map[string]*tensorRange{}
	for i, r := range ranges {
		r.percentiles(1e-4)
		result[names[i]] = r
	}
	data, err := json.MarshalIndent(result, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(data, '\n'), 0o644)
}

// add records a batch of values: exact extremes, and a strided subsample
// (at most 65536 values per batch) for the percentiles.
func (r *tensorRange) add(v []float32) {
	step := max(1, len(v)/65536)
	for i, x := range v {
		r.Min = math.Min(r.Min, float64(x))
		r.Max = math.Max(r.Max, float64(x))
		if i%step == 0 {
			r.seen = append(r.seen, x)
		}
	}
}

// percentiles sets PLo and PHi to the q and 1-q quantiles of the subsample.
func (r *tensorRange) percentiles(q float64) {
	if len(r.seen) == 0 {
		return
	}
	slices.Sort(r.seen)
	lo := int(q * float64(len(r.seen)-1))
	hi := int((1 - q) * float64(len(r.seen)-1))
	r.PLo, r.PHi = float64(r.seen[lo]), float64(r.seen[hi])
	r.seen = nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			lines = append(lines, s)
		}
	}
	return lines, sc.Err()
}

func readFloats(path string, dst []float32) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) != 4*len(dst) {
		return fmt.Errorf("%s has %d bytes, the shape needs %d", path, len(data), 4*len(dst))
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return nil
}
