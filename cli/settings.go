package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"steelinspect/audit"
	"steelinspect/models"
	"steelinspect/station"
	"steelinspect/verdict"
)

// runSettings shows or changes the station's settings in force, as the
// window's Unlock does: "settings show" and "settings set".
func runSettings(args []string, env Env) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "set") {
		return fmt.Errorf("%w: usage: steelinspect settings show [--db F] | settings set [--pass P] [--reject R] --user NAME [--password-file F] [--db F]", errUsage)
	}
	sub, args := args[0], args[1:]
	var db dbFlag
	var thf thresholdFlags
	var sup supervisorFlags
	fs := newFlagSet("settings "+sub, env)
	db.register(fs)
	if sub == "set" {
		thf.register(fs)
		sup.register(fs)
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: settings %s takes only flags, not %q", errUsage, sub, rest[0])
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	if sub == "show" {
		return showSettings(ctx, store, env)
	}
	return setThresholds(ctx, store, &thf, &sup, env)
}

// showSettings prints the thresholds in force, who set them and when,
// and the model the window last recorded.
func showSettings(ctx context.Context, store *audit.Store, env Env) error {
	def := verdict.DefaultThresholds
	if m, _, err := models.Default(); err == nil {
		def = m.DefaultThresholds
	}
	in, err := station.ThresholdsInForce(ctx, store, def)
	if err != nil {
		return err
	}
	if in.Recorded {
		fmt.Fprintf(env.Stdout, "thresholds in force: %s\n", in)
	} else {
		fmt.Fprintf(env.Stdout, "thresholds in force: none recorded in %s: each command decides with its model's defaults (the bundled model's: pass %.2f, reject %.2f)\n",
			store.Path(), def.Pass, def.Reject)
	}
	latest, err := store.LatestSettingChanges(ctx)
	if err != nil {
		return err
	}
	if c, ok := latest[audit.SettingModel]; ok {
		fmt.Fprintf(env.Stdout, "model in the window: %s (recorded by %s at %s)\n", c.NewValue, c.ChangedBy, c.ChangedAt.Local().Format("2006-01-02 15:04"))
	}
	return nil
}

// setThresholds records a supervisor's change of the thresholds in force.
func setThresholds(ctx context.Context, store *audit.Store, thf *thresholdFlags, sup *supervisorFlags, env Env) error {
	if !thf.given() {
		return fmt.Errorf("%w: settings set needs --pass, --reject or both", errUsage)
	}
	old, err := station.ThresholdsInForce(ctx, store, verdict.DefaultThresholds)
	if err != nil {
		return err
	}
	now := thf.over(old.Thresholds)
	if err := now.ValidateStation(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if ok, err := store.HasRole(ctx, audit.RoleSupervisor); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: no supervisor or admin exists on this station yet, so the thresholds stay as they are; an admin is made with: steelinspect users add NAME --role admin", errUsage)
	}
	u, err := sup.signIn(ctx, store, "to change the thresholds")
	if err != nil {
		return err
	}
	if old.Recorded && now == old.Thresholds {
		fmt.Fprintf(env.Stderr, "steelinspect settings: pass %.2f, reject %.2f are already in force: nothing recorded\n", now.Pass, now.Reject)
		return nil
	}
	if err := station.RecordThresholds(ctx, store, u.Name+" (command line)", old, now); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "steelinspect settings: pass %.2f, reject %.2f in force from now, recorded in %s\n", now.Pass, now.Reject, store.Path())
	return nil
}

// supervisorFlags are --user and --password-file: a supervisor's or
// admin's sign-in, for a command that sets thresholds on a station with
// users.
type supervisorFlags struct{ user, passwordFile string }

func (f *supervisorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.user, "user", "", "a supervisor's or admin's `name`: thresholds on a station with users need one, signed in as in the window's Unlock")
	fs.StringVar(&f.passwordFile, "password-file", "", "the --user's password: the first line of this `file` (default: the first line of standard input)")
}

// signIn signs the flags' user in through the trail, which records the
// attempt, and holds them to a supervisor's role: anything else is a
// refusal (exit 2) in one line, also recorded.
func (f *supervisorFlags) signIn(ctx context.Context, store *audit.Store, why string) (audit.User, error) {
	if f.user == "" {
		return audit.User{}, fmt.Errorf("%w: thresholds on this station need a supervisor's sign-in: give --user NAME (and --password-file F, or the password on standard input)", errUsage)
	}
	pw, err := readPassword(f.passwordFile, os.Stdin)
	if err != nil {
		return audit.User{}, err
	}
	u, err := store.SignIn(ctx, f.user, pw, audit.EventSignIn, why+" (command line)")
	switch {
	case errors.Is(err, audit.ErrWrongPassword), errors.Is(err, audit.ErrSignInLocked), errors.As(err, new(*audit.SignInWaitError)):
		return u, fmt.Errorf("%w: %s The thresholds stay as they are", errUsage, audit.SignInMessage(err))
	case err != nil:
		return u, err
	case !u.Can(audit.RoleSupervisor):
		if err := store.AddAccessEvent(ctx, u.Name, "unlock_refused", "role "+u.Role+", "+why+" (command line)"); err != nil {
			return u, err
		}
		return u, fmt.Errorf("%w: %s is an operator: thresholds need a supervisor or admin; they stay as they are", errUsage, u.Name)
	}
	return u, store.AddAccessEvent(ctx, u.Name, audit.EventUnlock, why+" (command line)")
}

// changedBy is who a change made on the command line is recorded by: on
// a station with users, the supervisor the flags sign in (why is
// recorded with the sign-in); on one without, the system's user.
func (f *supervisorFlags) changedBy(ctx context.Context, store *audit.Store, why string) (string, error) {
	users, err := store.Users(ctx)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return "command line (" + currentUser() + ")", nil
	}
	u, err := f.signIn(ctx, store, why)
	if err != nil {
		return "", err
	}
	return u.Name + " (command line)", nil
}

// runThresholds settles the thresholds a long-running or recording command
// decides with. Without --pass/--reject: those in force in st's trail
// (st.Follow reads them again for each strip; without a trail, the
// model's defaults). With them: the run's own pair, fixed (st.Fix), which
// on a trail with users needs a supervisor's sign-in (recorded with the
// pair); on a trail without users, or with no trail, they are free, as
// before.
func runThresholds(ctx context.Context, st *station.Station, thf *thresholdFlags, sup *supervisorFlags, cmd string) (verdict.Thresholds, error) {
	in, err := st.InForce(ctx)
	if err != nil {
		return in.Thresholds, err
	}
	if !thf.given() {
		return in.Thresholds, nil
	}
	th := thf.over(in.Thresholds)
	if err := th.Validate(); err != nil {
		return th, fmt.Errorf("%w: %v", errUsage, err)
	}
	st.Fix(th)
	store := st.Trail()
	if store == nil {
		return th, nil
	}
	users, err := store.Users(ctx)
	if err != nil || len(users) == 0 {
		return th, err
	}
	why := fmt.Sprintf("to decide this run of %s with pass %.2f, reject %.2f (in force: %.2f, %.2f)", cmd, th.Pass, th.Reject, in.Pass, in.Reject)
	if _, err := sup.signIn(ctx, store, why); err != nil {
		return th, err
	}
	return th, nil
}
