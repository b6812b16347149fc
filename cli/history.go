package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"steelinspect/audit"
	"steelinspect/central"
	"steelinspect/verdict"

	"github.com/jackc/pgx/v5"
)

// dbFlag is the audit database location shared by the commands that use it.
type dbFlag struct{ path string }

func (d *dbFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&d.path, "db", "", "audit database `file` (default: ~/.local/share/steelinspect/audit.db); serve also takes a postgres://… URL, a trail several instances share")
}

func (d *dbFlag) open() (*audit.Store, error) {
	p, err := d.file()
	if err != nil {
		return nil, err
	}
	store, err := audit.Open(p)
	if err == nil {
		warnTrail(store)
	}
	return store, err
}

// file is the audit database file --db names, else the default one; a
// PostgreSQL URL is refused (serve takes one: sharedURL).
func (d *dbFlag) file() (string, error) {
	if central.IsURL(d.path) {
		return "", fmt.Errorf("%w: --db %s: only serve records in a PostgreSQL trail (several API instances sharing one); ask it with history --central URL", errUsage, "postgres://…")
	}
	if d.path == "" {
		return audit.DefaultPath()
	}
	return d.path, nil
}

// warnTrail says what the trail warns of, if anything.
func warnTrail(store *audit.Store) {
	if store != nil && store.Warning() != "" {
		fmt.Fprintf(os.Stderr, "steelinspect: warning: %s\n", store.Warning())
	}
}

// historySubcommands are history's own subcommands; anything else is
// an export.
var historySubcommands = map[string]func([]string, Env) error{
	"verify": runHistoryVerify,
	"retire": runHistoryRetire,
	"head":   runHistoryHead,
}

func runHistory(args []string, env Env) error {
	if len(args) > 0 {
		if sub, ok := historySubcommands[args[0]]; ok {
			return sub(args[1:], env)
		}
	}
	var db dbFlag
	fs := newFlagSet("history", env)
	db.register(fs)
	since := fs.String("since", "", "only inspections at or after this `time`: 2006-01-02, 2006-01-02T15:04, RFC 3339, or a duration back from now (8h, 7d)")
	until := fs.String("until", "", "only inspections before this `time` (same forms)")
	decision := fs.String("decision", "", "only this final `decision`: PASS, REVIEW or REJECT")
	operator := fs.String("operator", "", "only inspections reviewed by this `operator`")
	format := fs.String("format", "csv", "output `format`: csv or jsonl (inspections), or chain (the trail's hash chain, every entry, for history verify --chain elsewhere)")
	centralURL := fs.String("central", "", "ask the central PostgreSQL at this `URL` (every station that forwards to it) instead of this station's trail")
	station := fs.String("station", "", "with --central: only this `station`'s inspections")
	line := fs.String("line", "", "with --central: only the inspections of the stations on this production `line` (--line on the stations)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	q, err := historyQuery(*decision, *operator, *since, *until)
	if err != nil {
		return err
	}
	if *format != "csv" && *format != "jsonl" && *format != "chain" {
		return fmt.Errorf("%w: --format %q is not csv, jsonl or chain", errUsage, *format)
	}
	if *centralURL != "" || *station != "" || *line != "" {
		return centralHistory(*centralURL, central.Query{Query: q, Station: *station, Line: *line}, *format, env)
	}
	return stationHistory(&db, q, *format, env)
}

// stationHistory exports this station's trail: its inspections, or its
// chain.
func stationHistory(db *dbFlag, q audit.Query, format string, env Env) error {
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	if format == "chain" {
		return writeChain(env, store, chainPage)
	}
	w := audit.NewInspectionWriter(env.Stdout, format)
	if err := store.EachInspection(context.Background(), q, w.Write); err != nil {
		return err
	}
	return w.Flush()
}

// chainPage is how many chain entries an export reads at a time.
const chainPage = 10000

// writeChain exports the trail's chain page entries at a time.
func writeChain(env Env, store *audit.Store, page int) error {
	for after := int64(0); ; {
		entries, err := store.ChainAfter(context.Background(), after, page)
		if err != nil {
			return err
		}
		if err := audit.WriteChain(env.Stdout, entries); err != nil {
			return err
		}
		if len(entries) < page {
			return nil
		}
		after = entries[len(entries)-1].Seq
	}
}

// centralHistory runs history's filters across every station in the
// central database.
func centralHistory(url string, q central.Query, format string, env Env) error {
	if url == "" {
		return fmt.Errorf("%w: --station and --line need --central URL", errUsage)
	}
	if format == "chain" {
		return fmt.Errorf("%w: --format chain is a station's own trail; drop --central", errUsage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Hour)
	defer cancel()
	conn, err := connectCentral(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	w := audit.NewInspectionWriter(env.Stdout, format)
	if err := central.EachInspection(ctx, conn, q, w.Write); err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	return w.Flush()
}

// historyQuery reads history's filters.
func historyQuery(decision, operator, since, until string) (audit.Query, error) {
	q := audit.Query{Operator: operator}
	if decision != "" {
		d, err := verdict.ParseDecision(strings.ToUpper(decision))
		if err != nil {
			return q, fmt.Errorf("%w: --decision: %v", errUsage, err)
		}
		q.Decision = verdict.Some(d)
	}
	var err error
	now := time.Now()
	if q.Since, err = parseWhen(since, now); err != nil {
		return q, fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if q.Until, err = parseWhen(until, now); err != nil {
		return q, fmt.Errorf("%w: --until: %v", errUsage, err)
	}
	return q, nil
}

// runHistoryVerify checks the trail's hash chain (audit.Store.Verify), or
// a chain exported with --format chain (--chain FILE). It prints what it
// checked and exits 0 when every entry holds, else lists the problems,
// the first one first, and exits 1.
func runHistoryVerify(args []string, env Env) error {
	var db dbFlag
	fs := newFlagSet("history verify", env)
	db.register(fs)
	chainFile := fs.String("chain", "", "verify this exported chain `file` (history --format chain, or a month history retire archived) instead of a database")
	after := fs.String("after", "", "with --chain: the `hash` of the entry before the file's first (a retired month's first_prev, printed by history retire)")
	centralURL := fs.String("central", "", "verify the stations' copies of their trails in the central PostgreSQL at this `URL` (each station's chain on its own)")
	station := fs.String("station", "", "with --central: only this `station`")
	head := fs.String("head", "", "also fail when the chain no longer reaches this entry, `SEQ:HASH` as history head printed it earlier (kept away from the station)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if *centralURL != "" || *station != "" {
		return verifyCentral(*centralURL, *station, env)
	}
	if err := checkVerifyFlags(*chainFile, *after, *head); err != nil {
		return err
	}
	var v *audit.Verification
	what := ""
	if *chainFile != "" {
		f, err := os.Open(*chainFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if v, err = audit.VerifyChain(f, *after); err != nil {
			return err
		}
		what = *chainFile
	} else {
		store, err := db.open()
		if err != nil {
			return err
		}
		defer store.Close()
		if v, err = store.Verify(context.Background()); err != nil {
			return err
		}
		if err := store.VerifyHead(context.Background(), v, *head); err != nil {
			return err
		}
		what = store.Path()
	}
	if !printVerification(env, what, v) {
		return fmt.Errorf("%w: the audit trail was altered: %s", errSomeFailed, v.Problems[0])
	}
	return nil
}

// checkVerifyFlags refuses history verify's flags that do not go
// together: --after is for a chain file, --head for the station's trail.
func checkVerifyFlags(chainFile, after, head string) error {
	switch {
	case after != "" && chainFile == "":
		return fmt.Errorf("%w: --after is for --chain FILE", errUsage)
	case head != "" && chainFile != "":
		return fmt.Errorf("%w: --head is for the station's own trail, not --chain FILE", errUsage)
	case head != "":
		if _, _, err := audit.ParseHead(head); err != nil {
			return fmt.Errorf("%w: --head: %v", errUsage, err)
		}
	}
	return nil
}

// runHistoryHead prints the trail's newest chain entry as SEQ:HASH, for
// keeping away from the station: history verify --head checks that the
// chain still reaches it.
func runHistoryHead(args []string, env Env) error {
	var db dbFlag
	fs := newFlagSet("history head", env)
	db.register(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	head, err := store.Head(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, head)
	return nil
}

// printVerification prints what a verification found and says whether
// the trail holds.
func printVerification(env Env, what string, v *audit.Verification) bool {
	counts := fmt.Sprintf("%d entries (%d inspections, %d decisions, %d setting changes)",
		v.Entries, v.ByKind["inspection"], v.ByKind["decision"], v.ByKind["setting"])
	if len(v.Problems) == 0 {
		fmt.Fprintf(env.Stdout, "audit trail intact: %s: %s, head %s\n", what, counts, v.Head)
		if v.Adopted != "" {
			fmt.Fprintf(env.Stdout, "  (%s: vouched for from then on, not before)\n", v.Adopted)
		}
		return true
	}
	fmt.Fprintf(env.Stdout, "audit trail NOT intact: %s: %s; %d problem(s), the first first:\n", what, counts, len(v.Problems))
	for _, p := range v.Problems {
		fmt.Fprintln(env.Stdout, "  "+p)
	}
	return false
}

// verifyCentral checks each station's chain in the central database (or
// only station's), as history verify checks a station's own.
func verifyCentral(url, station string, env Env) error {
	if url == "" {
		return fmt.Errorf("%w: --station needs --central URL", errUsage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := connectCentral(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	stations := []string{station}
	if station == "" {
		if stations, err = central.Stations(ctx, conn); err != nil {
			return fmt.Errorf("central database: %v", err)
		}
	}
	var altered []string
	for _, st := range stations {
		v, err := central.VerifyStation(ctx, conn, st)
		if err != nil {
			return fmt.Errorf("central database: %v", err)
		}
		if v.Entries == 0 && v.Head == "" { // neither entries nor retired months
			return fmt.Errorf("central database: no trail of station %q", st)
		}
		if !printVerification(env, "station "+st+" in the central database", v) {
			altered = append(altered, st)
		}
	}
	if len(altered) > 0 {
		return fmt.Errorf("%w: the central copy of station(s) %s was altered", errSomeFailed, strings.Join(altered, ", "))
	}
	return nil
}

// connectCentral connects to the central database (central.Connect),
// naming it in the error.
func connectCentral(ctx context.Context, url string) (*pgx.Conn, error) {
	conn, err := central.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("central database: %v", err)
	}
	return conn, nil
}

// parseWhen reads a date, a date and time (local time unless a zone is
// given), or a duration back from now such as 8h or 7d. Empty means zero.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if strings.HasSuffix(s, "d") {
		var days int
		if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02), a date and time, or a duration like 8h or 7d", s)
}
