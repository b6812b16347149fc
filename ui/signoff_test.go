package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"steelinspect/station"
)

// TestSignOffOnTheCheckSet: while the model in use has no checked
// sign-off the window says under the strip that it is not validated on
// this line; with a check set registered, a new model is scored on it
// beside the model in use before it goes live, the supervisor sees both,
// Esc keeps the model in use (the new one closed), Enter switches and
// the figures are recorded as the model's sign-off, after which the line
// goes.
func TestSignOffOnTheCheckSet(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	if _, err := station.RegisterCheckSet(ctx, store, "test", "../testdata/heldout"); err != nil {
		t.Fatal(err)
	}
	var opened []*countingAnalyzer
	opener := func(path string) (Analyzer, error) {
		a, err := openerFor(t)(path)
		if a != nil {
			opened = append(opened, a.(*countingAnalyzer))
		}
		return a, err
	}
	h := newHarness(t, Options{Station: onTrail(store), OpenModel: opener})
	h.waitIdle()
	if !h.ins.card.notValidated.Visible() || !strings.Contains(h.ins.card.notValidated.Text, "Not validated on this line") {
		t.Fatal("no 'not validated on this line' line for a model never checked here")
	}
	if d := h.ins.models.desc.Text; !strings.HasPrefix(d, "Not checked on this line: defect recall unknown") {
		t.Errorf("model panel %q", d)
	}
	h.unlockAsSupervisor()
	key := h.ins.Window().Canvas().OnTypedKey()

	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.waitIdle()
	shown := strings.Join(h.ins.messagesShown, "\n")
	for _, want := range []string{"60 strips, 30 defective", "new   tiny-nhwc", "in use tiny-nchw", "missed ", "clean auto-rejected "} {
		if !strings.Contains(shown, want) {
			t.Errorf("the check's dialog lacks %q:\n%s", want, shown)
		}
	}
	key(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.waitIdle()
	if h.ins.models.manifest.Name != "tiny-nchw" || len(opened) != 1 || opened[0].closed.Load() != 1 {
		t.Fatalf("Esc: model %s, the refused one closed %d times", h.ins.models.manifest.Name, opened[0].closed.Load())
	}

	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.confirmSwitch("new   tiny-nhwc")
	if h.ins.models.manifest.Name != "tiny-nhwc" {
		t.Fatalf("Enter: model %s", h.ins.models.manifest.Name)
	}
	s, err := station.SignOffOf(ctx, store, h.ins.models.manifest.Identity())
	if err != nil || s == nil || !s.Checked || !strings.HasPrefix(s.Figures, "missed ") {
		t.Errorf("sign-off recorded %+v %v", s, err)
	}
	if h.ins.card.notValidated.Visible() {
		t.Error("the 'not validated' line stays after a checked sign-off")
	}
	if d := h.ins.models.desc.Text; !strings.HasPrefix(d, "Checked on this line: missed ") {
		t.Errorf("the model panel does not give the check's figures first: %q", d)
	}
}

// TestNoTrailMeansNotValidated: a station started without a trail
// (--no-audit) records no sign-off, so nothing says its model was checked
// on this line: the window says it is not validated.
func TestNoTrailMeansNotValidated(t *testing.T) {
	h := newHarness(t, Options{})
	h.waitIdle()
	if !h.ins.card.notValidated.Visible() || !strings.Contains(h.ins.card.notValidated.Text, "Not validated on this line") {
		t.Fatal("a station without a trail shows no 'not validated on this line' line")
	}
}
