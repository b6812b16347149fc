package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"steelinspect/audit"
	"steelinspect/central"
)

// runHistoryRetire retires the central trail's months past retention:
// each station's part of each month is archived as a chain file under
// --out (written, synced and read back verified), then the month is
// dropped from the database and recorded in its table retired, so the
// archives and what stays still verify as one chain.
func runHistoryRetire(args []string, env Env) error {
	fs := newFlagSet("history retire", env)
	centralURL := fs.String("central", "", "the central PostgreSQL `URL`")
	before := fs.String("before", "", "retire the months that end on or before this `date` (2016-12-01), at least a month back")
	out := fs.String("out", "", "archive `folder`: one chain file per station and month, FOLDER/STATION/2016-11.chain.jsonl")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *centralURL == "" || *before == "" || *out == "" {
		return fmt.Errorf("%w: usage: steelinspect history retire --central URL --before 2016-12-01 --out FOLDER", errUsage)
	}
	until, err := parseWhen(*before, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --before: %v", errUsage, err)
	}
	now := time.Now().UTC()
	if thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC); until.After(thisMonth) {
		return fmt.Errorf("%w: --before %s would retire the month in progress; give %s or earlier", errUsage, *before, thisMonth.Format("2006-01-02"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Hour)
	defer cancel()
	conn, err := connectCentral(ctx, *centralURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	parts, err := central.Retire(ctx, conn, until, func(station, month string) (central.PartWriter, error) {
		return createChainFile(*out, station, month)
	})
	for _, p := range parts {
		check := "steelinspect history verify --chain " + p.Archive
		if p.FirstPrev != "" {
			check += " --after " + p.FirstPrev
		}
		fmt.Fprintf(env.Stdout, "retired %s of station %s: %d entries (seq %d–%d) to %s; check it with: %s\n",
			p.Month, p.Station, p.Entries, p.FirstSeq, p.LastSeq, p.Archive, check)
	}
	if err != nil {
		return fmt.Errorf("central database: %v", err)
	}
	if len(parts) == 0 {
		fmt.Fprintf(env.Stdout, "no month ends on or before %s: nothing retired\n", until.Format("2006-01-02"))
	}
	return nil
}

// chainFile is one station's part of a month, archived as a chain file
// (audit.WriteChain's format) through a temporary file.
type chainFile struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	first     string // the hash the part starts after
	n         int
}

func createChainFile(dir, station, month string) (*chainFile, error) {
	d := filepath.Join(dir, url.PathEscape(station))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(d, month+".chain.jsonl")
	f, err := os.CreateTemp(d, "."+month+".chain.jsonl.*")
	if err != nil {
		return nil, err
	}
	return &chainFile{path: path, tmp: f.Name(), f: f, w: bufio.NewWriter(f)}, nil
}

func (c *chainFile) Write(e audit.ChainEntry) error {
	if c.n == 0 {
		c.first = e.Prev
	}
	c.n++
	return audit.WriteChain(c.w, []audit.ChainEntry{e})
}

// Close syncs and renames the file, then reads it back: it must hold the
// part, whole and linked.
func (c *chainFile) Close() (string, error) {
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	if err := c.f.Sync(); err != nil {
		return "", err
	}
	if err := c.f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(c.tmp, c.path); err != nil {
		return "", err
	}
	r, err := os.Open(c.path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	v, err := audit.VerifyChain(r, c.first)
	if err != nil {
		return "", err
	}
	if len(v.Problems) > 0 || v.Entries != c.n {
		return "", fmt.Errorf("%s read back %d of %d entries, %v", c.path, v.Entries, c.n, v.Problems)
	}
	return c.path, nil
}

func (c *chainFile) Abort() {
	c.f.Close()
	os.Remove(c.tmp)
}
