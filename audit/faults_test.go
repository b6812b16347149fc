package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"steelinspect/verdict"
)

// A full disk: the insert that does not fit fails with a clear message,
// every insert acknowledged before it is still there and intact, and
// recording resumes once space is freed. Uses a real 320 KiB tmpfs, which
// needs root (CAP_SYS_ADMIN); elsewhere the test says why it is skipped.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=320k"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 96<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	long := strings.Repeat("strip-", 100)
	acked := 0
	var fullErr error
	for i := range 5000 {
		if _, err := s.Add(ctx, sample(fmt.Sprintf("%s%d.jpg", long, i), verdict.Pass, 0.1)); err != nil {
			fullErr = err
			break
		}
		acked++
	}
	if fullErr == nil {
		t.Fatal("5000 records fitted on a 320 KiB filesystem: the disk never filled")
	}
	if !strings.Contains(fullErr.Error(), "disk is full") || strings.Contains(fullErr.Error(), "\n") {
		t.Errorf("full disk error: %q, want one line saying the disk is full", fullErr)
	}
	t.Logf("%d records fitted before the disk was full", acked)
	if acked == 0 {
		t.Fatal("nothing fitted: the test filesystem is too small to prove anything")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, sample("after-freeing.jpg", verdict.Reject, 0.9)); err != nil {
		t.Fatalf("after freeing space: %v", err)
	}
	s.Close()

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rows, err := s2.History(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != acked+1 {
		t.Errorf("%d records after reopening, want the %d acknowledged + 1", len(rows), acked)
	}
	if err := s2.Check(ctx); err != nil {
		t.Error(err)
	}
}

const childEnv = "STEELINSPECT_AUDIT_CHILD"

// A database the user may not write (another user's file in another
// user's folder) gives one clear line, not a crash and not silence. As root
// file modes are ignored, so the check runs in a copy of this test binary
// started as the unprivileged user "nobody".
func TestReadOnlyDatabase(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		fmt.Println("RESULT:", tryWrite(os.Getenv(childEnv)))
		return
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "audit.db")
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), sample("before.jpg", verdict.Pass, 0.1)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	var out string
	if os.Geteuid() != 0 {
		if err := os.Chmod(db, 0o444); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(db), 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(filepath.Dir(db), 0o755)
		out = tryWrite(db)
	} else {
		out = runAsNobody(t, dir, db)
	}
	t.Logf("refused write: %s", out)
	if !strings.Contains(out, "read-only") || strings.Contains(out, "\n") {
		t.Errorf("read-only database: %q, want one line saying it is read-only", out)
	}
	// The record written before is untouched.
	s, err = Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rows, err := s.History(context.Background(), Query{}); err != nil || len(rows) != 1 {
		t.Errorf("after the refused write: %d rows, %v", len(rows), err)
	}
}

// tryWrite opens the store at path and records one inspection; it returns
// the error text, or "ok".
func tryWrite(path string) string {
	s, err := Open(path)
	if err != nil {
		return err.Error()
	}
	defer s.Close()
	if _, err := s.Add(context.Background(), sample("x.jpg", verdict.Pass, 0.1)); err != nil {
		return err.Error()
	}
	return "ok"
}

// runAsNobody runs this test in a copy of the test binary as uid/gid 65534
// against db (owned by root, mode 0644, in a root-owned 0755 folder) and
// returns what tryWrite said there.
func runAsNobody(t *testing.T, dir, db string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "audit.test")
	if err := copyFile(self, exe); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(dir), dir, filepath.Dir(db)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestReadOnlyDatabase$", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"="+db, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("child as nobody: %v\n%s", err, buf.String())
		}
		t.Skipf("cannot start a process as nobody: %v", err)
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if r, ok := strings.CutPrefix(line, "RESULT: "); ok {
			return r
		}
	}
	t.Fatalf("child printed no result:\n%s", buf.String())
	return ""
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
