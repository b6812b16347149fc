package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestUsersAndSignIn: users are made with a role and a hashed password;
// a sign-in with the right password records it, a wrong one or a disabled
// user's is refused and recorded; every event is chained.
func TestUsersAndSignIn(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if ok, _ := s.HasRole(ctx, RoleAdmin); ok {
		t.Fatal("an admin in an empty store")
	}
	if err := s.AddUser(ctx, "command line", "ada", RoleAdmin, "admin-pw-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "ada", "bob", RoleOperator, "op-pw-22"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ name, role, pw string }{
		{"BOB", RoleOperator, "another-pw"}, {"eve", "boss", "another-pw"}, {"eve", RoleOperator, "short"}, {" eve", RoleOperator, "another-pw"},
	} {
		if err := s.AddUser(ctx, "ada", bad.name, bad.role, bad.pw); err == nil {
			t.Errorf("user %+v accepted", bad)
		}
	}
	if ok, _ := s.HasRole(ctx, RoleAdmin); !ok {
		t.Error("no admin after adding one")
	}
	u, err := s.SignIn(ctx, "Bob", "op-pw-22", EventSignIn, "shift start")
	if err != nil || u.Name != "bob" || u.Role != RoleOperator || u.Can(RoleSupervisor) || !u.Can(RoleOperator) {
		t.Fatalf("bob: %+v %v", u, err)
	}
	if _, err := s.SignIn(ctx, "bob", "op-pw-2", EventUnlock, "settings"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := s.SignIn(ctx, "nobody", "op-pw-22", EventSignIn, ""); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("unknown user: %v", err)
	}
	if err := s.SetDisabled(ctx, "ada", "bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, "bob", "op-pw-22", EventSignIn, ""); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("disabled user signed in: %v", err)
	}
	if err := s.SetPassword(ctx, "ada", "nobody", "whatever-pw"); err == nil {
		t.Error("password of a missing user set")
	}
	events, _ := s.AccessEvents(ctx)
	var got []string
	for _, e := range events {
		got = append(got, e.User+":"+e.Event)
	}
	want := "command line:user_added,ada:user_added,bob:sign_in,bob:failed_sign_in,nobody:failed_sign_in,ada:user_changed,bob:failed_sign_in"
	if strings.Join(got, ",") != want {
		t.Errorf("events %s\nwant   %s", strings.Join(got, ","), want)
	}
	if v, err := s.Verify(ctx); err != nil || len(v.Problems) != 0 || v.ByKind["access"] != 7 {
		t.Errorf("chain: %v %+v", err, v)
	}
}
