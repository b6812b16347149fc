package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"steelinspect/audit"
)

// runUsers manages the station's named users (package audit): add,
// list, passwd, disable, enable, unlock after failed sign-ins, and the
// number of them that locks a name. The first admin is made here, on the
// station's own command line; the window refuses to unlock settings until
// one exists.
func runUsers(args []string, env Env) error {
	var db dbFlag
	fs := newFlagSet("users", env)
	db.register(fs)
	role := fs.String("role", "", "with add: the user's `role`: operator, supervisor or admin")
	pwFile := fs.String("password-file", "", "read the password from this `file` (default: the first line of standard input)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, usersUsage)
		fs.PrintDefaults()
	}
	// flags may come before the subcommand too: users --db F list
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: %s", errUsage, usersUsage)
	}
	sub, rest := rest[0], rest[1:]
	want := 1
	if sub == "list" {
		want = 0
	}
	if len(rest) != want {
		return fmt.Errorf("%w: %s", errUsage, usersUsage)
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	by := "command line (" + currentUser() + ")"
	switch sub {
	case "list":
		return listUsers(ctx, store, env)
	case "add", "passwd":
		return setUser(ctx, store, env, by, sub, rest[0], *role, *pwFile)
	case "disable", "enable":
		return store.SetDisabled(ctx, by, rest[0], sub == "disable")
	case "free-text":
		return setFreeText(ctx, store, by, rest[0])
	case "unlock":
		if err := store.UnlockUser(ctx, by, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "steelinspect users: %s may sign in again, recorded in %s\n", rest[0], store.Path())
		return nil
	case "lockout":
		n, err := strconv.Atoi(rest[0])
		if err != nil {
			return fmt.Errorf("%w: users lockout N: %q is not a number", errUsage, rest[0])
		}
		return store.SetLockoutAfter(ctx, by, n)
	}
	return fmt.Errorf("%w: users %s: not a users command; %s", errUsage, sub, usersUsage)
}

// usersUsage is the users command's usage line.
const usersUsage = "usage: steelinspect users add NAME --role operator|supervisor|admin [--password-file F] | list | passwd NAME | disable NAME | enable NAME | unlock NAME | lockout N | free-text on|off  [--db F]"

// setUser adds a user (sub "add") or gives one a new password ("passwd").
func setUser(ctx context.Context, store *audit.Store, env Env, by, sub, name, role, pwFile string) error {
	if sub == "add" && role == "" {
		return fmt.Errorf("%w: users add needs --role operator, supervisor or admin", errUsage)
	}
	pw, err := readPassword(pwFile, os.Stdin)
	if err != nil {
		return err
	}
	if sub == "add" {
		err = store.AddUser(ctx, by, name, strings.ToLower(role), pw)
	} else {
		err = store.SetPassword(ctx, by, name, pw)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "steelinspect users: %s %s, recorded in %s\n", sub, name, store.Path())
	return nil
}

// setFreeText records whether the operator on shift may be typed in
// rather than signed in.
func setFreeText(ctx context.Context, store *audit.Store, by, onOff string) error {
	if onOff != "on" && onOff != "off" {
		return fmt.Errorf("%w: users free-text on|off", errUsage)
	}
	old, err := store.LatestSettings(ctx)
	if err != nil {
		return err
	}
	return store.AddSettingChange(ctx, by, audit.SettingOperatorFreeText, old[audit.SettingOperatorFreeText], onOff)
}

func listUsers(ctx context.Context, store *audit.Store, env Env) error {
	users, err := store.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		state := ""
		if u.Disabled {
			state = " (disabled)"
		}
		fmt.Fprintf(env.Stdout, "%s\t%s%s\n", u.Name, u.Role, state)
	}
	return nil
}

// readPassword reads a password from file, or the first line of in.
func readPassword(file string, in io.Reader) (string, error) {
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %v", err)
		}
		in = strings.NewReader(string(raw))
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%w: no password given (--password-file F, or one line on standard input)", errUsage)
	}
	return pw, nil
}

// currentUser is the operating system's user running the command.
func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
