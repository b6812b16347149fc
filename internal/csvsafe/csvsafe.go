// Package csvsafe writes CSV that is safe to open in a spreadsheet: the
// one neutraliser for every CSV the product writes (scan, history,
// report). Text from outside (file names, station, line and operator
// names, reasons) can hold a formula or characters that make it read as
// something else; each cell is written so that it shows what it holds.
package csvsafe

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Cell neutralises one cell: a cell starting with =, +, -, @, tab or CR
// would be read as a formula, so it gets a leading apostrophe (OWASP's
// advice); control characters and invisible formatting characters
// (bidirectional controls such as U+202E, zero-width spaces and joiners)
// are spelled out as <U+202E>, so a name cannot look like another.
func Cell(v string) string {
	if strings.IndexFunc(v, hidden) >= 0 {
		var b strings.Builder
		for _, r := range v {
			if hidden(r) {
				fmt.Fprintf(&b, "<U+%04X>", r)
			} else {
				b.WriteRune(r)
			}
		}
		v = b.String()
	}
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		v = "'" + v
	}
	return v
}

// hidden says whether r is a control or an invisible formatting
// character.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Writer is a csv.Writer that neutralises every cell.
type Writer struct{ w *csv.Writer }

// NewWriter writes safe CSV to w.
func NewWriter(w io.Writer) *Writer { return &Writer{csv.NewWriter(w)} }

// Write writes one row, each cell through Cell.
func (w *Writer) Write(row []string) error {
	safe := make([]string, len(row))
	for i, c := range row {
		safe[i] = Cell(c)
	}
	return w.w.Write(safe)
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
