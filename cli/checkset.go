package cli

import (
	"context"
	"fmt"

	"steelinspect/station"
)

// runCheckSet registers the station's check set (station.CheckSet): the
// labelled strips of this line every model is scored on before it goes
// live. "checkset set DIR" and "checkset show".
func runCheckSet(args []string, env Env) error {
	var db dbFlag
	var sup supervisorFlags
	fs := newFlagSet("checkset", env)
	db.register(fs)
	sup.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, checkSetUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 || !(rest[0] == "show" && len(rest) == 1 || rest[0] == "set" && len(rest) == 2) {
		return fmt.Errorf("%w: %s", errUsage, checkSetUsage)
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	if rest[0] == "show" {
		cs, err := station.RegisteredCheckSet(ctx, store)
		switch {
		case err != nil:
			return err
		case cs == nil:
			fmt.Fprintf(env.Stdout, "no check set registered in %s: %s\n", store.Path(), station.Unchecked)
		default:
			fmt.Fprintf(env.Stdout, "check set %s (registered by %s at %s)\n", cs.Dir, cs.By, cs.At.Local().Format("2006-01-02 15:04"))
		}
		return nil
	}
	who, err := sup.changedBy(ctx, store, "to register the check set")
	if err != nil {
		return err
	}
	cs, err := station.RegisterCheckSet(ctx, store, who, rest[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "steelinspect checkset: %s registered: every model is checked on it before it goes live (steelinspect eval --model M)\n", cs.Dir)
	return nil
}

const checkSetUsage = "usage: steelinspect checkset set DIR [--user NAME --password-file F] [--db F] | checkset show [--db F]\n" +
	"DIR is in Severstal layout: train_images/ and train.csv (an image without rows is defect-free)"
