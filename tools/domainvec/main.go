// Command domainvec prints the vector a model's validated-domain check
// scores, for each image named on standard input (one path a line), as the
// application's engine computes it: the graph as it runs here, INT8
// included. training/domain_check.py fits the check on these vectors: the
// float original of an INT8 trunk gave other statistics on real steel, and
// a check fitted on them let real strips through.
//
//	printf '%s\n' a.jpg b.png | go run ./tools/domainvec --model M.manifest.json > vectors.txt
//
// Each output line is the image's values, space-separated, in input order;
// an image that cannot be read or scored stops the command with its name.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"steelinspect/inference"
)

func main() {
	model := flag.String("model", "", "the model's manifest (or .onnx beside it), with a validated-domain check")
	flag.Parse()
	if err := run(*model, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "domainvec:", err)
		os.Exit(1)
	}
}

func run(model string, in io.Reader, out io.Writer) error {
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
	for sc.Scan() {
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
		vec, err := e.DomainFeatures(context.Background(), img.Image)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for d, v := range vec {
			if d > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(strconv.FormatFloat(v, 'g', 9, 64))
		}
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return w.Flush()
}
