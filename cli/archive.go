package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"steelinspect/archive"
)

// archiveFlags are the image archive's options, shared by scan, watch,
// serve and the window.
type archiveFlags struct {
	dir       string
	passEvery int
	days      int
	quota     string
}

func (f *archiveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "archive", "", "keep a copy of every REVIEW and REJECT strip, with its report (heatmap), under this `folder` by day; the audit record names the copy and its sha256")
	fs.IntVar(&f.passEvery, "archive-pass", 0, "with --archive: keep 1 in `N` PASS strips too (0 none, 1 all)")
	fs.IntVar(&f.days, "retention-days", 0, "with --archive: delete archived strips older than this many `days` (0 keeps them); each purge is recorded")
	fs.StringVar(&f.quota, "archive-quota", "", "with --archive: keep the archive under this `size` (e.g. 500GB, 20GiB), the oldest going first; each purge is recorded")
}

// policy is the archive's policy; nil without --archive.
func (f *archiveFlags) policy() (*archive.Policy, error) {
	if f.dir == "" {
		if f.passEvery != 0 || f.days != 0 || f.quota != "" {
			return nil, fmt.Errorf("%w: --archive-pass, --retention-days and --archive-quota need --archive FOLDER", errUsage)
		}
		return nil, nil
	}
	quota, err := parseSize(f.quota)
	if err != nil {
		return nil, fmt.Errorf("%w: --archive-quota: %v", errUsage, err)
	}
	return &archive.Policy{Dir: f.dir, PassEvery: f.passEvery, RetentionDays: f.days, QuotaBytes: quota}, nil
}

// parseSize reads a size such as 500GB, 20GiB, 750MB or a plain number of
// bytes; "" is 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*float64(mult) > 1e18 {
		return 0, fmt.Errorf("%q is not a size (e.g. 500GB, 20GiB)", s)
	}
	return int64(v * float64(mult)), nil
}
