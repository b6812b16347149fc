package learn

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"steelinspect/evaluate"
	"steelinspect/inference"
	"steelinspect/internal/files"
	"steelinspect/verdict"
)

// Example is one labelled strip.
type Example struct {
	Path string
	// Defective is the strip-level label.
	Defective bool
	// Masks holds the defect masks by class when they are known: cells are
	// then labelled one by one. A defect-free strip has an empty, non-nil
	// map; a defective strip known only at strip level has nil.
	Masks map[int]*evaluate.Mask
	// From is the folder the label came from, for the report.
	From string
}

// CellsKnown says whether every cell of the strip has a label.
func (x *Example) CellsKnown() bool { return x.Masks != nil }

// merged is the union of the strip's masks, nil when unknown or clean.
func (x *Example) merged() *evaluate.Mask {
	var m *evaluate.Mask
	for _, c := range x.Masks {
		if m == nil {
			m = &evaluate.Mask{Width: c.Width, Height: c.Height, Pix: make([]bool, len(c.Pix))}
		}
		for i, on := range c.Pix {
			m.Pix[i] = m.Pix[i] || on
		}
	}
	return m
}

// Skipped is a file or label left out and why, one line each.
type Skipped struct {
	Path   string
	Reason string
}

// Hot-folder outcome folders a labelled folder may be sorted into.
var (
	passFolder   = verdict.Pass.String()
	rejectFolder = verdict.Reject.String()
)

// readLabelled reads one --labelled folder: the Severstal layout
// (train_images/ and train.csv; an image without rows is defect-free;
// train_images_nomask/ with labels_image_level.csv for defective strips
// without masks) or a folder sorted by decision (PASS/ and REJECT/, as the
// hot folder leaves them).
func readLabelled(dir string) ([]Example, []Skipped, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("labelled folder %s: %w", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a folder of labelled strips", dir)
	}
	var out []Example
	var skipped []Skipped
	found := false
	if isDir(filepath.Join(dir, "train_images")) {
		found = true
		ex, sk, err := readSeverstal(dir)
		if err != nil {
			return nil, nil, err
		}
		out, skipped = append(out, ex...), append(skipped, sk...)
	}
	if isDir(filepath.Join(dir, "train_images_nomask")) {
		found = true
		ex, sk, err := readImageLevel(filepath.Join(dir, "train_images_nomask"))
		if err != nil {
			return nil, nil, err
		}
		out, skipped = append(out, ex...), append(skipped, sk...)
	}
	for _, sub := range []string{passFolder, rejectFolder} {
		if !isDir(filepath.Join(dir, sub)) {
			continue
		}
		found = true
		ex, sk := readFolder(filepath.Join(dir, sub), sub == rejectFolder, dir)
		out, skipped = append(out, ex...), append(skipped, sk...)
	}
	if !found {
		return nil, nil, fmt.Errorf("%s: no labelled strips: expected train_images/ with train.csv (Severstal layout), "+
			"or %s/ and %s/ (a folder sorted by decision)", dir, passFolder, rejectFolder)
	}
	return out, skipped, nil
}

// readFolder labels every image under dir alike: all clean or all
// defective at strip level.
func readFolder(dir string, defective bool, from string) ([]Example, []Skipped) {
	var out []Example
	var skipped []Skipped
	for _, f := range files.WalkImages(dir) {
		if f.Err != nil {
			skipped = append(skipped, Skipped{f.Path, f.Err.Error()})
			continue
		}
		x := Example{Path: f.Path, Defective: defective, From: from}
		if !defective {
			x.Masks = map[int]*evaluate.Mask{}
		}
		out = append(out, x)
	}
	return out, skipped
}

// readSeverstal reads train_images/ and train.csv. Rows that cannot be read
// leave their image out (its masks would be incomplete), each with its
// line; rows naming missing files are reported once each.
func readSeverstal(dir string) ([]Example, []Skipped, error) {
	images := filepath.Join(dir, "train_images")
	csvPath := filepath.Join(dir, "train.csv")
	found := files.WalkImages(images)
	var skipped []Skipped
	width, height := evaluate.StripWidth, evaluate.StripHeight
	for _, f := range found {
		if f.Err == nil {
			if w, h, err := inference.ImageFileSize(f.Path); err == nil {
				width, height = w, h
				break
			}
		}
	}
	labels := &evaluate.Labels{Strips: map[string]*evaluate.StripLabels{}}
	if fh, err := os.Open(csvPath); err == nil {
		labels, err = evaluate.ParseLabels(fh, width, height)
		fh.Close()
		if labels == nil {
			return nil, nil, fmt.Errorf("%s: %w", csvPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: %w", csvPath, err)
	} else {
		return nil, nil, fmt.Errorf("%s: train_images/ has no train.csv beside it: without it every strip would read as defect-free", dir)
	}
	present := map[string]bool{}
	var out []Example
	for _, f := range found {
		if f.Err != nil {
			skipped = append(skipped, Skipped{f.Path, f.Err.Error()})
			continue
		}
		id := filepath.Base(f.Path)
		present[id] = true
		if why, bad := labels.Broken[id]; bad {
			skipped = append(skipped, Skipped{f.Path, "its labels in train.csv cannot be read (" + why + ")"})
			continue
		}
		x := Example{Path: f.Path, From: dir, Masks: map[int]*evaluate.Mask{}}
		if s := labels.Strips[id]; s != nil {
			for class, rle := range s.RLE {
				m, err := evaluate.DecodeRLE(rle, width, height)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %s class %d: %w", csvPath, id, class, err)
				}
				x.Masks[class] = m
			}
			x.Defective = len(x.Masks) > 0
		}
		out = append(out, x)
	}
	for id := range labels.Strips {
		if !present[id] {
			skipped = append(skipped, Skipped{filepath.Join(images, id), "named in train.csv but not in train_images/"})
		}
	}
	return out, skipped, nil
}

// readImageLevel reads a folder of defective strips whose masks are not
// known, labelled by labels_image_level.csv (ImageId, has_class_1, …): each
// counts at strip level only.
func readImageLevel(dir string) ([]Example, []Skipped, error) {
	csvPath := filepath.Join(dir, "labels_image_level.csv")
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s holds strips without masks but no labels_image_level.csv: %w", dir, errors.Unwrap(err))
	}
	defer f.Close()
	defective, err := readImageLevelCSV(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", csvPath, err)
	}
	var out []Example
	var skipped []Skipped
	for _, fd := range files.WalkImages(dir) {
		if fd.Err != nil {
			skipped = append(skipped, Skipped{fd.Path, fd.Err.Error()})
			continue
		}
		d, ok := defective[filepath.Base(fd.Path)]
		switch {
		case !ok:
			skipped = append(skipped, Skipped{fd.Path, "not in labels_image_level.csv"})
		case d:
			out = append(out, Example{Path: fd.Path, Defective: true, From: dir})
		default:
			out = append(out, Example{Path: fd.Path, From: dir, Masks: map[int]*evaluate.Mask{}})
		}
	}
	return out, skipped, nil
}

// readImageLevelCSV maps each ImageId to whether any has_class_N is 1.
func readImageLevelCSV(r io.Reader) (map[string]bool, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read its header: %w", err)
	}
	var hasCols []int
	for i, h := range header {
		if strings.HasPrefix(strings.TrimSpace(h), "has_class_") {
			hasCols = append(hasCols, i)
		}
	}
	if strings.TrimSpace(strings.TrimPrefix(header[0], "\ufeff")) != "ImageId" || len(hasCols) == 0 {
		return nil, errors.New("header must be ImageId followed by has_class_1, has_class_2, …")
	}
	out := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		d, err := anyClass(rec, header, hasCols)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out[strings.TrimSpace(rec[0])] = d
	}
}

// anyClass says whether a row has any has_class_N column at 1.
func anyClass(rec, header []string, hasCols []int) (bool, error) {
	d := false
	for _, c := range hasCols {
		if c >= len(rec) {
			return false, fmt.Errorf("%d fields, the header has %d", len(rec), len(header))
		}
		v, err := strconv.Atoi(strings.TrimSpace(rec[c]))
		if err != nil || (v != 0 && v != 1) {
			return false, fmt.Errorf("%s is %q, want 0 or 1", header[c], rec[c])
		}
		d = d || v == 1
	}
	return d, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
