package station

import (
	"context"
	"path/filepath"
	"testing"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// TestSignOff: a model goes live checked (with its figures) or unchecked;
// the sign-off of the model in use is read back, and another model has
// none.
func TestSignOff(t *testing.T) {
	store, err := audit.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	a := verdict.ModelIdentity{Name: "a", SHA256: "aaaa"}
	b := verdict.ModelIdentity{Name: "b", SHA256: "bbbb"}
	if s, err := SignOffOf(ctx, store, a); err != nil || s != nil {
		t.Fatalf("nothing recorded: %+v %v", s, err)
	}
	if err := RecordSignOff(ctx, store, "sue", a, "missed 0 of 30 defective, clean auto-rejected 0 of 30, review 12 %"); err != nil {
		t.Fatal(err)
	}
	if s, _ := SignOffOf(ctx, store, a); s == nil || !s.Checked || s.By != "sue" || s.Figures != "missed 0 of 30 defective, clean auto-rejected 0 of 30, review 12 %" {
		t.Errorf("checked sign-off: %+v", s)
	}
	if err := RecordSignOff(ctx, store, "sue", b, ""); err != nil {
		t.Fatal(err)
	}
	if s, _ := SignOffOf(ctx, store, b); s == nil || s.Checked || s.Figures != Unchecked {
		t.Errorf("unchecked sign-off: %+v", s)
	}
	if s, _ := SignOffOf(ctx, store, a); s != nil {
		t.Errorf("a is no longer the model signed off last: %+v", s)
	}
}
