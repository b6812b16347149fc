package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hasProblem says whether v found a problem containing want.
func hasProblem(v *Verification, want string) bool {
	for _, p := range v.Problems {
		if strings.Contains(p, want) {
			return true
		}
	}
	return false
}

// TestLostChainIsNotSilentlyRebuilt: rows edited, then the chain dropped
// and the schema version reset, so that the next open would chain the
// forged rows afresh: verify now fails, saying so, on every later open.
func TestLostChainIsNotSilentlyRebuilt(t *testing.T) {
	s, raw := filledTrail(t)
	path := s.Path()
	if v := verify(t, s); len(v.Problems) != 0 || v.Adopted != "" {
		t.Fatalf("untouched trail: %+v", v)
	}
	s.Close()
	for _, q := range []string{
		`UPDATE inspections SET auto_decision = 'PASS' WHERE path = 'b.jpg'`,
		`DROP TABLE chain`,
		`PRAGMA user_version = 0`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // and it stays failed
		s2, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		v := verify(t, s2)
		if !hasProblem(v, "the hash chain was lost and rebuilt") {
			t.Errorf("a rebuilt chain verified: %+v", v)
		}
		s2.Close()
	}
}

// TestUsersAreInTheChain: a role, a password or the disabled flag changed
// with the sqlite3 shell, or a user inserted there, fails verify; changes
// made through the station do not.
func TestUsersAreInTheChain(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, sql, want string }{
		{"role", `UPDATE users SET role = 'admin' WHERE name = 'otto'`, "user otto was changed outside the trail: role was operator, is admin"},
		{"password", `UPDATE users SET hash = (SELECT hash FROM users WHERE name = 'ada') WHERE name = 'otto'`, "the password is not the one last recorded"},
		{"enabled", `UPDATE users SET disabled = 0 WHERE name = 'dora'`, "disabled was true, is false"},
		{"inserted", `INSERT INTO users (name, role, hash, created_at) SELECT 'mallory', 'admin', hash, created_at FROM users WHERE name = 'ada'`, "user mallory was added outside the trail"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, raw := filledTrail(t)
			for _, u := range []struct{ name, role string }{{"ada", RoleAdmin}, {"otto", RoleOperator}, {"dora", RoleOperator}} {
				if err := s.AddUser(ctx, "test", u.name, u.role, "secret-"+u.name); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetDisabled(ctx, "ada", "dora", true); err != nil {
				t.Fatal(err)
			}
			if err := s.SetPassword(ctx, "ada", "otto", "another-secret"); err != nil {
				t.Fatal(err)
			}
			if v := verify(t, s); len(v.Problems) != 0 || v.ByKind["user"] != 5 {
				t.Fatalf("users changed through the station: %+v", v)
			}
			if _, err := raw.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			if v := verify(t, s); !hasProblem(v, c.want) {
				t.Errorf("want a problem %q, got %+v", c.want, v.Problems)
			}
		})
	}
}

// TestNewestRowsDeleted: deleting the newest rows with their chain
// entries leaves a shorter chain that holds on its own; the chain's
// counter, a delivery mark past the head and a head kept earlier each
// tell.
func TestNewestRowsDeleted(t *testing.T) {
	ctx := context.Background()
	s, raw := filledTrail(t)
	kept, err := s.Head(ctx)
	if err != nil || !strings.HasPrefix(kept, "7:") {
		t.Fatalf("head %q %v, want entry 7", kept, err)
	}
	if err := s.SetDelivered(ctx, "mqtt", 7); err != nil {
		t.Fatal(err)
	}
	v := verify(t, s)
	if err := s.VerifyHead(ctx, v, kept); err != nil || len(v.Problems) != 0 {
		t.Fatalf("untouched: %+v %v", v, err)
	}
	for _, q := range []string{
		`DELETE FROM setting_changes`,
		`DELETE FROM chain WHERE seq >= 7`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	v = verify(t, s)
	if !hasProblem(v, "the newest chain entries 7 to 7 were deleted") || !hasProblem(v, "mqtt took chain entries up to 7, past the chain's head 6") {
		t.Errorf("newest rows deleted: %+v", v.Problems)
	}
	// with the counter and the mark put back too, only the kept head tells
	for _, q := range []string{`UPDATE sqlite_sequence SET seq = 6 WHERE name = 'chain'`, `UPDATE delivery SET seq = 6`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	v = verify(t, s)
	if len(v.Problems) != 0 {
		t.Fatalf("a cleanly cut chain holds on its own: %+v", v.Problems)
	}
	if err := s.VerifyHead(ctx, v, kept); err != nil || !hasProblem(v, "the chain no longer reaches the head kept earlier") {
		t.Errorf("kept head %s: %+v %v", kept, v.Problems, err)
	}
	for _, bad := range []string{"7", "x:abc", "7:short", "-1:"} {
		if _, _, err := ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) took it", bad)
		}
	}
}

// TestDatabaseFileIsPrivate: a new trail is 0600; one others may read
// opens with a warning.
func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || s.Warning() != "" {
		t.Fatalf("new trail: mode %v %v, warning %q", st.Mode().Perm(), err, s.Warning())
	}
	os.Chmod(path, 0o644)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(s.Warning(), "may be read by other users of this machine (mode 0644): chmod 600 it") {
		t.Errorf("0644 trail: warning %q", s.Warning())
	}
}
