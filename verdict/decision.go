package verdict

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Decision is the strip-level outcome. Its zero value is Pass: a field
// that may hold no decision yet (an operator's decision not taken, the
// decision on an image that could not be analysed) is an Optional.
//
// On the wire, in exports and in the audit trail a decision is written
// as its name: PASS, REVIEW or REJECT. Reading any other name is an
// error, and so is writing a value that is no decision.
type Decision int

// The three outcomes of the traffic light.
const (
	Pass Decision = iota
	Review
	Reject
)

var decisionNames = [...]string{"PASS", "REVIEW", "REJECT"}

// Valid says whether d is one of Pass, Review and Reject.
func (d Decision) Valid() bool { return d >= 0 && int(d) < len(decisionNames) }

func (d Decision) String() string {
	if !d.Valid() {
		return fmt.Sprintf("Decision(%d)", int(d))
	}
	return decisionNames[d]
}

// MarshalText writes the decision as PASS, REVIEW or REJECT (JSON, and
// anything else that writes text); a value that is no decision is an
// error, never a name made up for it.
func (d Decision) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("%v is not a decision", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads PASS, REVIEW or REJECT and refuses anything else.
func (d *Decision) UnmarshalText(b []byte) error {
	v, err := ParseDecision(string(b))
	if err == nil {
		*d = v
	}
	return err
}

// Value writes the decision to a database column as its name.
func (d Decision) Value() (driver.Value, error) {
	b, err := d.MarshalText()
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan reads a decision from a database column holding its name: an
// unknown name, or NULL, is an error.
func (d *Decision) Scan(src any) error {
	s, ok := columnText(src)
	if !ok {
		return fmt.Errorf("decision column holds %T, not a decision's name", src)
	}
	return d.UnmarshalText([]byte(s))
}

// columnText is a text column's value; false for NULL and non-text.
func columnText(src any) (string, bool) {
	switch v := src.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// ParseDecision reads PASS, REVIEW or REJECT.
func ParseDecision(s string) (Decision, error) {
	for i, n := range decisionNames {
		if n == s {
			return Decision(i), nil
		}
	}
	return 0, fmt.Errorf("unknown decision %q (want PASS, REVIEW or REJECT)", s)
}

// Optional is a decision that may not have been made: an operator's
// decision on a strip nobody has decided yet, the decision on an image
// that could not be analysed. Its zero value is no decision, which is
// never mistaken for PASS: Get says whether there is one.
//
// No decision is written as "" in text (CSV, a filter), as NULL in a
// database and as null in JSON, where a field tagged omitzero leaves it
// out; a decision is written as its name, as a Decision is.
type Optional struct {
	d  Decision
	ok bool
}

// Some is the decision d as an Optional.
func Some(d Decision) Optional { return Optional{d, true} }

// Get is the decision and true, or Pass and false when there is none.
func (o Optional) Get() (Decision, bool) { return o.d, o.ok }

// IsZero says there is no decision (for omitzero).
func (o Optional) IsZero() bool { return !o.ok }

// Is says whether there is a decision and it is d.
func (o Optional) Is(d Decision) bool { return o.ok && o.d == d }

// Or is the decision, or d when there is none.
func (o Optional) Or(d Decision) Decision {
	if o.ok {
		return o.d
	}
	return d
}

// String is the decision's name, "" for none.
func (o Optional) String() string {
	if !o.ok {
		return ""
	}
	return o.d.String()
}

// ParseOptional reads PASS, REVIEW or REJECT, or "" for no decision.
func ParseOptional(s string) (Optional, error) {
	if s == "" {
		return Optional{}, nil
	}
	d, err := ParseDecision(s)
	if err != nil {
		return Optional{}, err
	}
	return Some(d), nil
}

// MarshalJSON writes the decision's name, or null for none.
func (o Optional) MarshalJSON() ([]byte, error) {
	if !o.ok {
		return []byte("null"), nil
	}
	b, err := o.d.MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a decision's name, or null or "" for none; any
// other name, or a value that is not a string, is an error.
func (o *Optional) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = Optional{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decision %s is not a string", b)
	}
	v, err := ParseOptional(s)
	if err == nil {
		*o = v
	}
	return err
}

// Value writes the decision's name to a database column, NULL for none.
func (o Optional) Value() (driver.Value, error) {
	if !o.ok {
		return nil, nil
	}
	return o.d.Value()
}

// Scan reads a database column: NULL or "" is no decision, a decision's
// name is that decision, anything else an error.
func (o *Optional) Scan(src any) error {
	if src == nil {
		*o = Optional{}
		return nil
	}
	s, ok := columnText(src)
	if !ok {
		return fmt.Errorf("decision column holds %T, not a decision's name", src)
	}
	v, err := ParseOptional(s)
	if err == nil {
		*o = v
	}
	return err
}

// Final is a strip's disposition: the operator's decision when there is
// one (PASS or REJECT, as the audit trail stores it), else the automatic
// one. The one rule for every headline: card, list, report, history.
func Final(auto Decision, operator Optional) Decision { return operator.Or(auto) }
