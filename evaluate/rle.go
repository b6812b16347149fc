package evaluate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// run is one run of mask pixels: 0-based start index in column-major order.
type run struct{ start, length int }

// parseRuns reads "start length start length …" (1-based starts) and checks
// every run lies inside a mask of size pixels.
func parseRuns(rle string, size int) ([]run, error) {
	fields := strings.Fields(rle)
	if len(fields)%2 != 0 {
		return nil, fmt.Errorf("RLE has %d numbers, want start/length pairs", len(fields))
	}
	runs := make([]run, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		start, err1 := strconv.Atoi(fields[i])
		length, err2 := strconv.Atoi(fields[i+1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("RLE pair %d (%q %q) is not two integers", i/2+1, fields[i], fields[i+1])
		}
		if start < 1 || length < 1 {
			return nil, fmt.Errorf("RLE pair %d (%d %d): start and length must be positive", i/2+1, start, length)
		}
		if start-1+length > size {
			return nil, fmt.Errorf("RLE pair %d (%d %d) runs past the end of the %d-pixel mask", i/2+1, start, length, size)
		}
		runs = append(runs, run{start - 1, length})
	}
	return runs, nil
}

// Mask is a binary defect mask, row-major: Pix[y*Width+x].
type Mask struct {
	Width, Height int
	Pix           []bool
}

// DecodeRLE decodes a Severstal run-length encoding onto a width×height
// mask. Pixel numbers are 1-based and run down each column, then across:
// pixel n is at x = (n-1) / height, y = (n-1) % height.
func DecodeRLE(rle string, width, height int) (*Mask, error) {
	m := &Mask{Width: width, Height: height, Pix: make([]bool, width*height)}
	return m, m.add(rle)
}

func (m *Mask) add(rle string) error {
	runs, err := parseRuns(rle, m.Width*m.Height)
	if err != nil {
		return err
	}
	for _, r := range runs {
		for i := r.start; i < r.start+r.length; i++ {
			x, y := i/m.Height, i%m.Height
			m.Pix[y*m.Width+x] = true
		}
	}
	return nil
}

// EncodeRLE writes a mask in the Severstal encoding (the inverse of DecodeRLE).
func EncodeRLE(m *Mask) string {
	var b strings.Builder
	n := m.Width * m.Height
	for i := 0; i < n; {
		if !m.at(i) {
			i++
			continue
		}
		j := i
		for j < n && m.at(j) {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d %d", i+1, j-i)
		i = j
	}
	return b.String()
}

// at reads the pixel with column-major index i.
func (m *Mask) at(i int) bool { return m.Pix[(i%m.Height)*m.Width+i/m.Height] }

// Count returns how many pixels are set inside [x0,x1)×[y0,y1).
func (m *Mask) Count(x0, y0, x1, y1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		row := m.Pix[y*m.Width : (y+1)*m.Width]
		for _, v := range row[x0:x1] {
			if v {
				n++
			}
		}
	}
	return n
}

// MergedMask decodes every class of a strip into one mask.
func (s *StripLabels) MergedMask(width, height int) (*Mask, error) {
	m := &Mask{Width: width, Height: height, Pix: make([]bool, width*height)}
	for _, c := range s.ClassIDs() {
		if err := m.add(s.RLE[c]); err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
	}
	return m, nil
}
