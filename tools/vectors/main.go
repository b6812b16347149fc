// Command vectors prints what a model computes for each image named on
// standard input (one path a line), as the application's engine computes
// it: the graph as it runs here, INT8 included.
//
//	printf '%s\n' a.jpg b.png | go run ./tools/vectors --model M.manifest.json [--of domain|windows] > vectors.txt
//
// --of domain (the default) prints one line per image: the vector the
// model's validated-domain check scores. training/domain_check.py
// --through-engine fits the check on these: the float original of an INT8
// trunk gave other statistics on real steel, and a check fitted on them let
// real strips through. --of windows prints one line per patch: the image's
// line number (from 0), then the patch's window features (a whole-strip
// model's features output, what familiarity is fitted on), in patch order;
// training/lab/probe_windows.py learns heads on them. Values are
// space-separated; an image that cannot be read or scored stops the
// command with its name.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
	"strings"

	"steelinspect/inference"
)

func main() {
	model := flag.String("model", "", "the model's manifest (or .onnx beside it)")
	of := flag.String("of", "domain", "domain: the validated-domain check's vector per image; windows: every patch's window features")
	flag.Parse()
	if err := run(*model, *of, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err)
		os.Exit(1)
	}
}

// rowsOf are the lines one image gives: its values, one slice a line.
type rowsOf func(ctx context.Context, e *inference.Engine, img image.Image) ([][]float64, error)

func domainRows(ctx context.Context, e *inference.Engine, img image.Image) ([][]float64, error) {
	v, err := e.DomainFeatures(ctx, img)
	return [][]float64{v}, err
}

func windowRows(ctx context.Context, e *inference.Engine, img image.Image) ([][]float64, error) {
	fs, err := e.PatchFeatures(ctx, img)
	rows := make([][]float64, len(fs))
	for i, f := range fs {
		rows[i] = make([]float64, len(f))
		for d, v := range f {
			rows[i][d] = float64(v)
		}
	}
	return rows, err
}

func run(model, of string, in io.Reader, out io.Writer) error {
	rows, prefix := rowsOf(domainRows), false
	switch of {
	case "domain":
	case "windows":
		rows, prefix = windowRows, true
	default:
		return fmt.Errorf("--of %q: want domain or windows", of)
	}
	if model == "" {
		return fmt.Errorf("--model is required")
	}
	e, err := inference.OpenModel(model, inference.EngineOptions{})
	if err != nil {
		return err
	}
	defer e.Close()
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	for n := 0; sc.Scan(); {
		path := strings.TrimSpace(sc.Text())
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		img, err := inference.DecodeImage(data, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		vecs, err := rows(context.Background(), e, img.Image)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, vec := range vecs {
			if prefix {
				w.WriteString(strconv.Itoa(n) + " ")
			}
			for d, v := range vec {
				if d > 0 {
					w.WriteByte(' ')
				}
				w.WriteString(strconv.FormatFloat(v, 'g', 9, 64))
			}
			w.WriteByte('\n')
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return w.Flush()
}
