package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// Sign-in attempts are limited per user name (known or not): after
// signInFreeFailures failed attempts in a row each further one must wait
// a delay that doubles, up to maxSignInDelay, and after the number an
// admin sets (SettingLockoutAfter, DefaultLockoutAfter) the name is
// locked until an admin unlocks it (Store.UnlockUser). Every step is an
// access event in the chained trail. A name nobody has costs the same
// bcrypt comparison as a known one, so the time taken does not tell
// which names exist.
const (
	signInFreeFailures  = 3
	maxSignInDelay      = time.Minute
	DefaultLockoutAfter = 10
	// SettingLockoutAfter is the recorded number of failed sign-ins in a
	// row after which a user is locked (an admin's choice).
	SettingLockoutAfter = "sign_in_lockout_after"
)

// Access events of the sign-in limits.
const (
	EventSignInLocked   = "sign_in_locked"   // the name reached the lockout number
	EventSignInRefused  = "sign_in_refused"  // an attempt while locked or waiting
	EventSignInUnlocked = "sign_in_unlocked" // an admin unlocked the name
)

// ErrSignInLocked is a sign-in refused because its name is locked.
var ErrSignInLocked = errors.New("locked after too many failed sign-ins")

// SignInWaitError is a sign-in refused because it came too soon after
// failed ones.
type SignInWaitError struct{ Wait time.Duration }

func (e *SignInWaitError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", e.Wait.Round(time.Second))
}

// timeNow is the clock of the sign-in limits and the access events
// (tests move it).
var timeNow = time.Now

// compareHash is bcrypt's comparison (tests count its calls).
var compareHash = bcrypt.CompareHashAndPassword

// dummyHash is compared against for a name nobody has, at the same cost.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such user"), passwordCost)
	if err != nil {
		panic(err) // only for a cost out of range, a programming error
	}
	return h
})

// signInDelay is how long an attempt must wait after the last of
// failures failed ones in a row.
func signInDelay(failures int) time.Duration {
	if failures < signInFreeFailures {
		return 0
	}
	return min(time.Second<<min(failures-signInFreeFailures, 16), maxSignInDelay)
}

// SignIn checks a user's password (bcrypt: slow on purpose, call it off
// the UI goroutine) and records the sign-in as event (EventSignIn or
// EventUnlock) with detail, or the failed or refused attempt. It refuses
// a locked name (ErrSignInLocked) and an attempt too soon after failed
// ones (*SignInWaitError) without checking the password.
func (s *Store) SignIn(ctx context.Context, name, password, event, detail string) (User, error) {
	name = norm.NFKC.String(strings.TrimSpace(name))
	failures, last, err := s.failedSignIns(ctx, name)
	if err != nil {
		return User{}, err
	}
	lockAfter, err := s.lockoutAfter(ctx)
	if err != nil {
		return User{}, err
	}
	if failures >= lockAfter {
		return User{}, s.refuseSignIn(ctx, name, detail, fmt.Errorf("%s is %w (%d): an admin unlocks it with: steelinspect users unlock %s", name, ErrSignInLocked, failures, name))
	}
	if wait := last.Add(signInDelay(failures)).Sub(timeNow()); wait > 0 {
		return User{}, s.refuseSignIn(ctx, name, detail, &SignInWaitError{Wait: wait})
	}
	var u User
	var hash string
	err = s.db.QueryRowContext(ctx, `SELECT name, role, hash, disabled FROM users WHERE name = ?`, name).
		Scan(&u.Name, &u.Role, &hash, &u.Disabled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("sign-in: %s", explain(err))
	}
	stored := dummyHash()
	if err == nil {
		stored = []byte(hash)
	}
	ok := compareHash(stored, []byte(password)) == nil && err == nil && !u.Disabled
	if ok {
		return u, s.AddAccessEvent(ctx, u.Name, event, detail)
	}
	err = s.inTx(ctx, "record failed sign-in", func(tx *sql.Tx) error {
		if err := addAccessEvent(ctx, tx, name, EventFailed, detail); err != nil {
			return err
		}
		if failures+1 == lockAfter {
			return addAccessEvent(ctx, tx, name, EventSignInLocked, fmt.Sprintf("after %d failed sign-ins in a row", lockAfter))
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return User{}, ErrWrongPassword
}

// refuseSignIn records an attempt refused unchecked, and returns why.
func (s *Store) refuseSignIn(ctx context.Context, name, detail string, why error) error {
	if err := s.AddAccessEvent(ctx, name, EventSignInRefused, detail+": "+why.Error()); err != nil {
		return err
	}
	return why
}

// failedSignIns counts name's failed sign-ins since its last success or
// unlock, and when the last one was.
func (s *Store) failedSignIns(ctx context.Context, name string) (int, time.Time, error) {
	var n int
	var last string
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(at), '') FROM access_events
		WHERE user = ? COLLATE NOCASE AND event = ? AND id > (SELECT COALESCE(MAX(id), 0) FROM access_events
			WHERE user = ? COLLATE NOCASE AND event IN (?, ?, ?))`,
		name, EventFailed, name, EventSignIn, EventUnlock, EventSignInUnlocked).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sign-in: %s", explain(err))
	}
	at, _ := time.Parse(timeLayout, last)
	return n, at, nil
}

// lockoutAfter is the number of failed sign-ins in a row that locks a
// name: the recorded setting, else DefaultLockoutAfter.
func (s *Store) lockoutAfter(ctx context.Context) (int, error) {
	settings, err := s.LatestSettings(ctx)
	if err != nil {
		return 0, err
	}
	if n, err := strconv.Atoi(settings[SettingLockoutAfter]); err == nil && n > 0 {
		return n, nil
	}
	return DefaultLockoutAfter, nil
}

// SetLockoutAfter records the number of failed sign-ins in a row that
// locks a name (by an admin).
func (s *Store) SetLockoutAfter(ctx context.Context, by string, n int) error {
	if n < signInFreeFailures || n > 1000 {
		return fmt.Errorf("lockout after %d failed sign-ins: give a number from %d to 1000", n, signInFreeFailures)
	}
	old, err := s.LatestSettings(ctx)
	if err != nil {
		return err
	}
	return s.AddSettingChange(ctx, by, SettingLockoutAfter, old[SettingLockoutAfter], strconv.Itoa(n))
}

// UnlockUser lets a locked or delayed name sign in again (by an admin).
func (s *Store) UnlockUser(ctx context.Context, by, name string) error {
	name = norm.NFKC.String(strings.TrimSpace(name))
	return s.AddAccessEvent(ctx, name, EventSignInUnlocked, "by "+by)
}

// CanonicalUserName is the form a user name is kept and looked up in:
// NFKC-normalised (a full-width "ａｄａ" is "ada"), 1 to 64 characters, no
// surrounding spaces, and none of the characters that make a name look
// like another or read differently from what it holds: control, format
// (bidirectional controls, zero-width joiners and spaces) and separators
// other than the plain space.
func CanonicalUserName(name string) (string, error) {
	n := norm.NFKC.String(name)
	if n == "" || len([]rune(n)) > 64 || strings.TrimSpace(n) != n {
		return "", fmt.Errorf("user name %q must be 1 to 64 characters without surrounding spaces", name)
	}
	for _, r := range n {
		switch {
		case unicode.IsControl(r):
			return "", fmt.Errorf("user name %q holds a control character (%U)", name, r)
		case unicode.Is(unicode.Cf, r):
			return "", fmt.Errorf("user name %q holds an invisible formatting character (%U: bidirectional or zero-width)", name, r)
		case unicode.IsSpace(r) && r != ' ', unicode.In(r, unicode.Zl, unicode.Zp):
			return "", fmt.Errorf("user name %q holds a space other than the plain one (%U)", name, r)
		}
	}
	return n, nil
}

// lookAlike is the form two names share when they look alike: Unicode's
// confusable skeleton, case folded.
func lookAlike(name string) string {
	return confusables.Skeleton(strings.ToLower(confusables.Skeleton(strings.ToLower(name))))
}

// refuseLookAlike refuses a new name that looks like an existing user's
// (Cyrillic "аda" beside "ada", "adm1n" beside "admin").
func (s *Store) refuseLookAlike(ctx context.Context, name string) error {
	users, err := s.Users(ctx)
	if err != nil {
		return err
	}
	want := lookAlike(name)
	for _, u := range users {
		if lookAlike(u.Name) == want && !strings.EqualFold(u.Name, name) {
			return fmt.Errorf("user name %q looks like the existing user %q: choose one that cannot be mistaken for it", name, u.Name)
		}
	}
	return nil
}

// SignInMessage is what to tell the person whose sign-in failed with
// err, in one sentence: which of name and password was wrong is not
// said; a lock or a wait is.
func SignInMessage(err error) string {
	var wait *SignInWaitError
	switch {
	case errors.Is(err, ErrWrongPassword):
		return "Unknown user or wrong password."
	case errors.As(err, &wait):
		return fmt.Sprintf("Too many failed sign-ins: try again in %s.", wait.Wait.Round(time.Second))
	case errors.Is(err, ErrSignInLocked):
		return "This name is " + ErrSignInLocked.Error() + ": an admin unlocks it (steelinspect users unlock NAME)."
	}
	return err.Error()
}
