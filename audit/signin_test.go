package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var bcryptCompare = bcrypt.CompareHashAndPassword

func bcryptCost(h []byte) int {
	c, _ := bcrypt.Cost(h)
	return c
}

// fakeClock moves the sign-in limits' clock for one test.
func fakeClock(t *testing.T) *time.Time {
	t.Helper()
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	timeNow = func() time.Time { return now }
	t.Cleanup(func() { timeNow = time.Now })
	return &now
}

// TestSignInDelaysThenLocks: failed sign-ins in a row first cost a
// growing wait (refused unchecked, even with the right password), then
// lock the name at the number an admin set; an admin's unlock lets the
// right password in again. Before, 100 failures at 9.7 tries a second
// changed nothing.
func TestSignInDelaysThenLocks(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := fakeClock(t)
	if err := s.AddUser(ctx, "test", "ada", RoleAdmin, "right-password"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLockoutAfter(ctx, "test", 5); err != nil {
		t.Fatal(err)
	}
	try := func(pw string) error {
		_, err := s.SignIn(ctx, "ada", pw, EventSignIn, "test")
		return err
	}
	for i := range 3 { // the free ones
		if err := try("wrong"); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var wait *SignInWaitError
	if err := try("right-password"); !errors.As(err, &wait) || wait.Wait != time.Second {
		t.Fatalf("right password at once after 3 failures: %v, want a 1 s wait", err)
	}
	*now = now.Add(time.Second)
	if err := try("wrong"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("4th failure after the wait: %v", err)
	}
	if err := try("wrong"); !errors.As(err, &wait) || wait.Wait != 2*time.Second {
		t.Fatalf("after 4 failures: %v, want a 2 s wait", err)
	}
	*now = now.Add(2 * time.Second)
	if err := try("wrong"); !errors.Is(err, ErrWrongPassword) { // the 5th: locked from now on
		t.Fatalf("5th failure: %v", err)
	}
	*now = now.Add(time.Hour)
	if err := try("right-password"); !errors.Is(err, ErrSignInLocked) || !strings.Contains(err.Error(), "steelinspect users unlock ada") {
		t.Fatalf("locked name, right password: %v", err)
	}
	if err := s.UnlockUser(ctx, "root (command line)", "ada"); err != nil {
		t.Fatal(err)
	}
	if err := try("right-password"); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	events, _ := s.AccessEvents(ctx)
	count := map[string]int{}
	for _, e := range events {
		count[e.Event]++
	}
	if count[EventFailed] != 5 || count[EventSignInLocked] != 1 || count[EventSignInRefused] != 3 || count[EventSignInUnlocked] != 1 || count[EventSignIn] != 1 {
		t.Errorf("every step should be in the trail: %v", count)
	}
	if v := verify(t, s); len(v.Problems) != 0 {
		t.Errorf("trail: %v", v.Problems)
	}
}

// TestUnknownNameCostsTheSame: a name nobody has is checked against a
// hash of the same cost, so answering it takes as long as a wrong
// password for a known name (0.4 ms against 103 ms before).
func TestUnknownNameCostsTheSame(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "test", "ada", RoleOperator, "right-password"); err != nil {
		t.Fatal(err)
	}
	calls := 0
	compareHash = func(h, p []byte) error { calls++; return bcryptCompare(h, p) }
	t.Cleanup(func() { compareHash = bcryptCompare })
	for _, name := range []string{"ada", "nobody"} {
		calls = 0
		if _, err := s.SignIn(ctx, name, "wrong", EventSignIn, "test"); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("%s: %v", name, err)
		}
		if calls != 1 {
			t.Errorf("%s: %d bcrypt comparisons, want 1 like any other name", name, calls)
		}
	}
	if cost := bcryptCost(dummyHash()); cost != passwordCost {
		t.Errorf("the stand-in hash has cost %d, want the users' %d", cost, passwordCost)
	}
}

// TestUserNames: names are kept NFKC-normalised; control, bidirectional
// and zero-width characters are refused, and so is a name that looks
// like an existing one once confusable letters are folded.
func TestUserNames(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.AddUser(ctx, "test", "ａｄａ", RoleOperator, "password-1"); err != nil { // full-width
		t.Fatal(err)
	}
	if users, _ := s.Users(ctx); len(users) != 1 || users[0].Name != "ada" {
		t.Fatalf("full-width name kept as %+v, want ada", users)
	}
	if _, err := s.SignIn(ctx, "ａｄａ", "password-1", EventSignIn, "test"); err != nil {
		t.Errorf("signing in with the full-width spelling: %v", err)
	}
	for _, c := range []struct{ name, want string }{
		{"а\u0064a", "looks like the existing user"}, // Cyrillic a
		{"ad\u0430", "looks like the existing user"},
		{"ev\u202Ee", "invisible formatting character"}, // right-to-left override
		{"e\u200Bve", "invisible formatting character"}, // zero-width space
		{"e\u200Dve", "invisible formatting character"}, // zero-width joiner
		{"e\x07ve", "control character"},
		{"e\u2028ve", "space other than the plain one"}, // line separator (NFKC makes a no-break space a plain one)
		{" eve", "without surrounding spaces"},
		{"ADA", "exists already"},
	} {
		err := s.AddUser(ctx, "test", c.name, RoleOperator, "password-1")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddUser(%q): %v, want %q", c.name, err, c.want)
		}
	}
	if err := s.AddUser(ctx, "test", "Olga K", RoleOperator, "password-1"); err != nil {
		t.Errorf("a plain name with a space: %v", err)
	}
}
