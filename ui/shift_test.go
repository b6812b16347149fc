package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steelinspect/audit"
	"steelinspect/station"
	"steelinspect/verdict"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestShiftIsRestoredOnStart: after a restart the Processed list used to
// be empty while the audit trail held unresolved REVIEWs (issue 17). On
// start the window restores this shift's strips and every unresolved
// REVIEW; showing one does not record it again.
func TestShiftIsRestoredOnStart(t *testing.T) {
	store := openStore(t)
	dir := t.TempDir()
	ctx := context.Background()
	add := func(path string, auto verdict.Decision, at time.Time) int64 {
		t.Helper()
		id, err := store.Add(ctx, audit.Inspection{InspectedAt: at, Source: "watch", Path: path, AutoDecision: auto,
			ModelName: "tiny", PassThreshold: 0.4, RejectThreshold: 0.65})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	now := time.Now()
	oldPending := writePNG(t, dir, "old-review.png", stripB())
	add(oldPending, verdict.Review, now.Add(-72*time.Hour)) // days old, never decided: restored
	add(writePNG(t, dir, "old-pass.png", stripPass()), verdict.Pass, now.Add(-72*time.Hour))
	add(writePNG(t, dir, "shift-pass.png", stripPass()), verdict.Pass, now.Add(-time.Hour))
	decided := add(writePNG(t, dir, "decided.png", stripB()), verdict.Review, now.Add(-time.Hour))
	if err := store.Review(ctx, decided, verdict.Reject, "bob", ""); err != nil {
		t.Fatal(err)
	}
	add(filepath.Join(dir, "gone.png"), verdict.Review, now.Add(-time.Hour)) // its file is gone
	add("upload (API request 1f)", verdict.Review, now.Add(-time.Hour))      // an API upload: no file
	before := len(history(t, store))

	h := newHarness(t, Options{Station: onTrail(store)})
	h.ins.review.setOperator("alice")
	h.waitIdle()
	var names []string
	for _, it := range h.ins.processed.items {
		names = append(names, it.name)
	}
	if strings.Join(names, ",") != "old-review.png,shift-pass.png,decided.png" {
		t.Fatalf("restored %v, want the old pending REVIEW and this shift's strips with files", names)
	}
	if n := h.ins.reviewCount(); n != 1 {
		t.Errorf("%d strips wait for review, want the one undecided REVIEW", n)
	}
	if it := h.ins.processed.items[2]; it.review == nil || it.review.decision != verdict.Reject || it.review.operator != "bob" {
		t.Errorf("bob's decision not restored: %+v", it.review)
	}
	// the shift summary counts final decisions: bob's REJECT over its REVIEW
	if got := h.ins.processed.count.Text; !strings.Contains(got, "Shift: 3 strips · 1 PASS · 1 REVIEW · 1 REJECT\n1 waiting for review") {
		t.Errorf("shift summary %q", got)
	}

	h.ins.review.next()
	h.waitIdle()
	if h.ins.current != 0 || h.ins.card.decision.Text != "REVIEW" {
		t.Fatalf("showing the pending strip: current %d, card %q", h.ins.current, h.ins.card.decision.Text)
	}
	if got := len(history(t, store)); got != before {
		t.Errorf("showing a restored strip wrote %d new audit records", got-before)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyR})
	h.waitIdle()
	rows := history(t, store)
	if !rows[0].OperatorDecision.Is(verdict.Reject) || rows[0].Operator != "alice" || len(rows) != before {
		t.Errorf("the restored REVIEW was not decided on its own record: %+v", rows[0])
	}
	if got := h.ins.processed.count.Text; !strings.Contains(got, "1 PASS · 0 REVIEW · 2 REJECT\n0 waiting for review") {
		t.Errorf("shift summary after the review %q", got)
	}
}

// TestModelSwitchDoesNotRescoreRecordedStrips: after a model switch,
// revisiting a pending REVIEW used to score it again under a new record
// while the original stayed unresolved (issue 17).
func TestModelSwitchDoesNotRescoreRecordedStrips(t *testing.T) {
	store := openStore(t)
	opener := func(path string) (Analyzer, error) { return openCounting(t, path), nil }
	h := newHarness(t, Options{Station: onTrail(store), OpenModel: opener})
	h.ins.review.setOperator("alice")
	dir := t.TempDir()
	h.openPaths(writePNG(t, dir, "b.png", stripB()), writePNG(t, dir, "c.png", stripPass()))
	h.ins.showItem(0)
	h.waitIdle()
	if h.ins.card.decision.Text != "REVIEW" || len(history(t, store)) != 2 {
		t.Fatalf("card %q, %d records", h.ins.card.decision.Text, len(history(t, store)))
	}
	h.unlockAsSupervisor()
	h.waitIdle()
	h.ins.openModel("../testdata/models/tiny-nhwc.manifest.json")
	h.confirmSwitch(station.Unchecked)
	h.ins.showItem(1)
	h.waitIdle()
	h.ins.showItem(0)
	h.waitIdle()
	if h.ins.models.manifest.Name != "tiny-nhwc" || h.ins.card.decision.Text != "REVIEW" || h.ins.reviewCount() != 1 {
		t.Errorf("after the switch: model %s, card %q, %d pending", h.ins.models.manifest.Name, h.ins.card.decision.Text, h.ins.reviewCount())
	}
	if got := len(history(t, store)); got != 2 {
		t.Errorf("%d audit records after revisiting both strips with the new model, want the 2 original", got)
	}
}

// TestThresholdsEditedOutsideTheStation: the first start with a trail
// records the thresholds in force; thresholds edited into the
// preferences file while the station was closed are not taken: the
// recorded ones stay in force, the window says so, the trail records it.
func TestThresholdsEditedOutsideTheStation(t *testing.T) {
	store := openStore(t)
	first := newHarness(t, Options{Station: onTrail(store)})
	rec, err := store.LatestSettings(context.Background())
	if err != nil || rec["pass_threshold"] != "0.40" || rec["reject_threshold"] != "0.65" {
		t.Fatalf("first start recorded %v (%v)", rec, err)
	}
	first.ins.Close()

	app := test.NewTempApp(t)
	app.Preferences().SetFloat(prefPass, 0.50)
	app.Preferences().SetFloat(prefReject, 0.80)
	h := newHarnessOn(t, app, Options{Station: onTrail(store)})
	want := verdict.Thresholds{Pass: 0.40, Reject: 0.65}
	if h.ins.settings.thresholds != want || h.ins.work.currentThresholds() != want || h.ins.settings.passSlider.Value != 0.40 {
		t.Fatalf("thresholds in force %+v (worker %+v, slider %.2f), want the recorded %+v",
			h.ins.settings.thresholds, h.ins.work.currentThresholds(), h.ins.settings.passSlider.Value, want)
	}
	if !strings.Contains(strings.Join(h.ins.messagesShown, "\n"), "changed outside the station") {
		t.Errorf("not said: %q", h.ins.messagesShown)
	}
	if app.Preferences().Float(prefPass) != 0.40 {
		t.Error("the preferences file still holds the edited value")
	}
	changes, _ := store.SettingChanges(context.Background())
	last := changes[len(changes)-1]
	if last.Setting != "preferences_outside_station" || !strings.Contains(last.OldValue, "pass 0.50 reject 0.80") {
		t.Errorf("last recorded change %+v", last)
	}
}

// TestOperatorSignsIn: on a station with named users the operator on
// shift signs in (a user, not free text); a wrong password is refused;
// both are recorded.
func TestOperatorSignsIn(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	if err := store.AddUser(ctx, "test", "olga", audit.RoleOperator, "olga-pw-1"); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: onTrail(store)})
	canvas := h.ins.Window().Canvas()
	signIn := func(name, pw string) {
		t.Helper()
		user, ok := canvas.Focused().(*dialogEntry)
		if !ok || user.Password {
			t.Fatalf("no user box focused: %T", canvas.Focused())
		}
		test.Type(user, name)
		canvas.FocusNext()
		password, ok := canvas.Focused().(*dialogEntry)
		if !ok || !password.Password {
			t.Fatalf("no password box next: %T", canvas.Focused())
		}
		test.Type(password, pw)
		password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		h.waitIdle()
	}
	signIn("olga", "not-her-pw")
	if h.ins.review.operator != "" || len(h.ins.errorsShown) != 1 || !strings.Contains(h.ins.errorsShown[0], "wrong password") {
		t.Fatalf("wrong password: operator %q, errors %q", h.ins.review.operator, h.ins.errorsShown)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // the error
	// the sign-in is asked again, the name kept and the password box focused
	// (a wrong password used to close it, leaving the station with no operator)
	again, ok := canvas.Focused().(*dialogEntry)
	if !ok || !again.Password || h.ins.review.prompt == nil || h.ins.topDialog() == nil {
		t.Fatalf("after a wrong password: focused %T, sign-in asked again %v", canvas.Focused(), h.ins.topDialog() != nil)
	}
	h.ins.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // cancel it, to sign in afresh below
	h.ins.review.askOperator(true)
	signIn("Olga", "olga-pw-1")
	if h.ins.review.operator != "olga" {
		t.Fatalf("operator %q after signing in", h.ins.review.operator)
	}
	events, _ := store.AccessEvents(ctx)
	var got []string
	for _, e := range events {
		got = append(got, e.User+":"+e.Event)
	}
	if !strings.Contains(strings.Join(got, ","), "olga:failed_sign_in,olga:sign_in") {
		t.Errorf("access events %v", got)
	}
	// where an admin allowed it, a name is typed instead
	if err := store.AddSettingChange(ctx, "ada", audit.SettingOperatorFreeText, "", "on"); err != nil {
		t.Fatal(err)
	}
	h.ins.review.askOperator(true)
	if e, ok := canvas.Focused().(*dialogEntry); !ok || e.Password {
		t.Fatalf("no name box: %T", canvas.Focused())
	} else {
		e.SetText("") // it offers the operator on shift
		test.Type(e, "temp worker 7")
		e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	if h.ins.review.operator != "temp worker 7" {
		t.Errorf("typed operator %q", h.ins.review.operator)
	}
}

// TestShiftRateIsALineRateNotABurst: a batch opened at once gives no
// strips/h figure; once the shift has run a quarter of an hour, the rate
// counts the strips of the last hour.
func TestShiftRateIsALineRateNotABurst(t *testing.T) {
	h := newHarness(t, Options{})
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	add := func(ago time.Duration) {
		h.ins.processed.items = append(h.ins.processed.items, &item{name: "s", auditID: int64(len(h.ins.processed.items) + 1), auto: verdict.Pass, inspectedAt: now.Add(-ago)})
	}
	for k := range 12 {
		add(time.Duration(k) * 300 * time.Millisecond) // a folder of 12 opened in 4 s
	}
	s := h.ins.processed.summarize(now)
	if s.rateKnown || !strings.Contains(s.String(), "rate after 15 min") || strings.Contains(s.String(), "strips/h") {
		t.Errorf("a 4-second burst reads %q", s.String())
	}
	// the same shift 30 minutes on, with 18 more strips across it
	now = now.Add(30 * time.Minute)
	for k := range 18 {
		add(time.Duration(k) * 100 * time.Second)
	}
	s = h.ins.processed.summarize(now)
	if !s.rateKnown || !strings.Contains(s.String(), "60 strips/h") {
		t.Errorf("30 strips over 30 minutes read %q, want 60 strips/h", s.String())
	}
	// two hours on: only the last hour counts
	now = now.Add(90 * time.Minute)
	for k := range 5 {
		add(time.Duration(k) * 10 * time.Minute)
	}
	if s = h.ins.processed.summarize(now); !strings.Contains(s.String(), "5 strips/h") {
		t.Errorf("5 strips in the last hour of a 2-hour shift read %q", s.String())
	}
}
