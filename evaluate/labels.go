// Package evaluate measures a model against labelled strips in the Severstal
// layout (train_images/ and train.csv with run-length-encoded defect masks):
// strip-level outcomes of the traffic light, patch-level detection metrics,
// misses per defect class, and a sweep of every threshold pair.
package evaluate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Severstal strips are 1600 wide and 256 high; masks are encoded column by
// column over that grid.
const (
	StripWidth  = 1600
	StripHeight = 256
)

// StripLabels are the defect masks of one image, by class, as RLE text.
type StripLabels struct {
	ImageID string
	// RLE maps a class id (1..4 in Severstal) to its encoded mask.
	RLE map[int]string
	// Lines maps a class id to the CSV line it was read from.
	Lines map[int]int
}

// Defective says whether any class has a non-empty mask.
func (s *StripLabels) Defective() bool { return len(s.RLE) > 0 }

// ClassIDs lists the classes present, in order.
func (s *StripLabels) ClassIDs() []int {
	ids := make([]int, 0, len(s.RLE))
	for c := range s.RLE {
		ids = append(ids, c)
	}
	sort.Ints(ids)
	return ids
}

// Labels are all strips named in a train.csv, by image id (file name).
type Labels struct {
	Strips map[string]*StripLabels
	// Broken names the images with a row that could not be read (bad
	// RLE, duplicate class): their masks are incomplete, so they must not
	// be taken as labelled. The value is the first problem.
	Broken map[string]string
	// Layout is "ImageId,ClassId,EncodedPixels" or "ImageId_ClassId,EncodedPixels".
	Layout string
}

// LineError is a problem with one line of the labels file.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseLabels reads a Severstal train.csv in either layout: the current
// `ImageId,ClassId,EncodedPixels` (one row per image and class present) or
// the older `ImageId_ClassId,EncodedPixels` (one row per image and class,
// empty pixels for absent classes). Every RLE is checked against a
// width×height mask. All problems are returned, each with its line number;
// nothing wrong is silently counted.
//
// Cyclomatic complexity above 15, kept: one branch per malformed-row case of the two label formats, each with its own message.
//
//gocyclo:ignore
func ParseLabels(r io.Reader, width, height int) (*Labels, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("labels: cannot read header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	labels := &Labels{Strips: map[string]*StripLabels{}, Broken: map[string]string{}}
	broken := func(id string, line int, msg string) {
		if _, seen := labels.Broken[id]; !seen {
			labels.Broken[id] = fmt.Sprintf("line %d: %s", line, msg)
		}
	}
	var split func(rec []string) (id string, class int, rle string, err error)
	switch strings.Join(header, ",") {
	case "ImageId,ClassId,EncodedPixels":
		labels.Layout = "ImageId,ClassId,EncodedPixels"
		split = func(rec []string) (string, int, string, error) {
			if len(rec) != 3 {
				return "", 0, "", fmt.Errorf("%d fields, want 3", len(rec))
			}
			c, err := parseClass(rec[1])
			return strings.TrimSpace(rec[0]), c, rec[2], err
		}
	case "ImageId_ClassId,EncodedPixels":
		labels.Layout = "ImageId_ClassId,EncodedPixels"
		split = func(rec []string) (string, int, string, error) {
			if len(rec) != 2 {
				return "", 0, "", fmt.Errorf("%d fields, want 2", len(rec))
			}
			i := strings.LastIndexByte(rec[0], '_')
			if i <= 0 {
				return "", 0, "", fmt.Errorf("ImageId_ClassId %q has no _class suffix", rec[0])
			}
			c, err := parseClass(rec[0][i+1:])
			return strings.TrimSpace(rec[0][:i]), c, rec[1], err
		}
	default:
		return nil, fmt.Errorf("labels: header %q is neither ImageId,ClassId,EncodedPixels nor ImageId_ClassId,EncodedPixels", strings.Join(header, ","))
	}
	var problems []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, &LineError{line, err.Error()})
			if _, ok := err.(*csv.ParseError); ok {
				continue
			}
			break
		}
		id, class, rle, err := split(rec)
		if err == nil && id == "" {
			err = errors.New("empty ImageId")
		}
		if err != nil {
			problems = append(problems, &LineError{line, err.Error()})
			continue
		}
		s := labels.Strips[id]
		if s == nil {
			s = &StripLabels{ImageID: id, RLE: map[int]string{}, Lines: map[int]int{}}
			labels.Strips[id] = s
		}
		if prev, dup := s.Lines[class]; dup {
			msg := fmt.Sprintf("duplicate row for %s class %d (first on line %d)", id, class, prev)
			problems = append(problems, &LineError{line, msg})
			broken(id, line, msg)
			continue
		}
		s.Lines[class] = line
		rle = strings.TrimSpace(rle)
		if rle == "" {
			continue // older layout: class absent
		}
		if _, err := parseRuns(rle, width*height); err != nil {
			msg := fmt.Sprintf("%s class %d: %v", id, class, err)
			problems = append(problems, &LineError{line, msg})
			broken(id, line, msg)
			continue
		}
		s.RLE[class] = rle
	}
	if len(problems) > 0 {
		return labels, errors.Join(problems...)
	}
	return labels, nil
}

func parseClass(s string) (int, error) {
	c, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || c < 1 || c > 99 {
		return 0, fmt.Errorf("class id %q is not a number 1..99", s)
	}
	return c, nil
}

// ReadLabelsFile parses a train.csv file for 1600×256 strips (ParseLabels:
// every problem with its line number).
func ReadLabelsFile(path string) (*Labels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseLabels(f, StripWidth, StripHeight)
}
