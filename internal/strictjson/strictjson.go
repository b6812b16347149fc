// Package strictjson decodes the JSON files the station reads (model
// manifests, familiarity statistics) strictly, and says where a file is
// wrong: the line, the column and the path of the field it could not read
// ("provenance.metrics_validation.real-masked.patch_auc"), not only the
// character. A NaN or Infinity, which JSON has no words for, is named as
// such.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Decode reads exactly one JSON value from data into v. Unknown object
// keys are refused, and so is anything after the value. The error says
// where the problem lies.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return explain(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, dec.InputOffset())
		return fmt.Errorf("line %d, column %d: more data after the JSON value", line, col)
	}
	return nil
}

// explain turns a decoding error into one line that names the field.
func explain(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		path := pathAt(data, -1)
		msg := syntax.Error()
		if hint := nonFinite(data, syntax.Offset); hint != "" {
			msg = hint
		}
		if path == "" {
			return fmt.Errorf("line %d, column %d: %s", line, col, msg)
		}
		return fmt.Errorf("field %q (line %d, column %d): %s", path, line, col, msg)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		// typ.Field leaves out map keys: walk to the value instead
		field := pathAt(data, typ.Offset)
		return fmt.Errorf("field %q (line %d, column %d): a JSON %s where %s was expected", field, line, col,
			typ.Value, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the JSON ends early (%d bytes): %w", len(data), err)
	}
	// Unknown fields ("json: unknown field \"x\"") and the rest name
	// themselves.
	return err
}

// nonFinite says plainly when the value that failed is a NaN or an
// Infinity, as Python's json module writes them unless told not to.
func nonFinite(data []byte, offset int64) string {
	start := int(offset) - 1
	if start < 0 || start >= len(data) {
		return ""
	}
	// the syntax error is reported at the first bad byte: "N" of NaN, "I"
	// of Infinity, or the byte after a "-" of -Infinity
	if start > 0 && data[start-1] == '-' {
		start--
	}
	rest := string(data[start:min(len(data), start+9)])
	for _, word := range []string{"NaN", "Infinity", "-Infinity"} {
		if strings.HasPrefix(rest, word) {
			return word + " is not JSON: a value that cannot be computed must be written as null " +
				"(with its reason beside it), never as " + word
		}
	}
	return ""
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// frame is one open object or array on the way to the failing value.
type frame struct {
	object  bool
	key     string // the object's current key
	wantKey bool   // the next string token is a key
	index   int    // the array's current element, -1 before the first
}

// pathAt walks data token by token and returns the path of the value being
// read ("a.b[2].c", "" at the top): the value that ends at or after stopAt
// bytes, or, with stopAt < 0, the value the first syntax error lies in.
func pathAt(data []byte, stopAt int64) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var w walk
	for {
		tok, err := dec.Token()
		if err != nil {
			return render(w.stack, true)
		}
		if !w.beginsValue(tok) {
			continue
		}
		if stopAt >= 0 && dec.InputOffset() >= stopAt {
			return render(w.stack, false)
		}
		w.enter(tok)
	}
}

// walk is the stack of objects and arrays open at a point of the document.
type walk struct{ stack []*frame }

func (w *walk) top() *frame {
	if len(w.stack) == 0 {
		return nil
	}
	return w.stack[len(w.stack)-1]
}

// beginsValue takes in a closing delimiter or an object key and returns
// false; for a token that begins a value it counts an array's element and
// returns true.
func (w *walk) beginsValue(tok json.Token) bool {
	top := w.top()
	if tok == json.Delim('}') || tok == json.Delim(']') {
		w.stack = w.stack[:len(w.stack)-1]
		if t := w.top(); t != nil && t.object {
			t.wantKey = true
		}
		return false
	}
	if s, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
		top.key, top.wantKey = s, false
		return false
	}
	if top != nil && !top.object {
		top.index++
	}
	return true
}

// enter opens an object or array, or closes a scalar member.
func (w *walk) enter(tok json.Token) {
	switch tok {
	case json.Delim('{'), json.Delim('['):
		w.stack = append(w.stack, &frame{object: tok == json.Delim('{'), wantKey: tok == json.Delim('{'), index: -1})
	default:
		if t := w.top(); t != nil && t.object {
			t.wantKey = true
		}
	}
}

// render writes the path of the value being read when the walk stopped;
// pending says that value has not begun (a syntax error before it).
func render(stack []*frame, pending bool) string {
	var b strings.Builder
	for i, f := range stack {
		last := i == len(stack)-1
		if f.object {
			if f.wantKey && last {
				break // between members: the object itself is the place
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
			continue
		}
		idx := f.index
		if last && pending {
			idx++
		}
		b.WriteString("[" + strconv.Itoa(idx) + "]")
	}
	return b.String()
}
