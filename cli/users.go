package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"steelinspect/audit"
	"strings"
)

// runUsers manages the station's named users (package audit): add,
// list, passwd, disable, enable. The first admin is made here, on the
// station's own command line; the window refuses to unlock settings until
// one exists.
func runUsers(args []string, env Env) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: usage: steelinspect users add NAME --role operator|supervisor|admin [--password-file F] | list | passwd NAME | disable NAME | enable NAME | free-text on|off", errUsage)
	}
	sub, args := args[0], args[1:]
	var db dbFlag
	fs := newFlagSet("users "+sub, env)
	db.register(fs)
	role := fs.String("role", "", "with add: the user's `role`: operator, supervisor or admin")
	pwFile := fs.String("password-file", "", "read the password from this `file` (default: the first line of standard input)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 1
	if sub == "list" {
		want = 0
	}
	if len(rest) != want {
		return fmt.Errorf("%w: users %s takes %d name(s)", errUsage, sub, want)
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
	}
	return fmt.Errorf("%w: users %s: not add, list, passwd, disable, enable or free-text", errUsage, sub)
}

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
