package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkScanBatchMemory scans a batch of 1600×256 strips with the audit
// trail on, as a station's batch does, and reports strips per second and
// how resident memory moved between the first tenth of the batch and the
// end: flat memory means the growth stays near zero however long the batch.
//
//	go test ./cli -run '^$' -bench ScanBatchMemory -benchtime 1x -strips 2000
func BenchmarkScanBatchMemory(b *testing.B) {
	dir := b.TempDir()
	strip := filepath.Join(dir, "strip.png")
	os.WriteFile(strip, stripBytes(), 0o644) // a real 1600×256 demo JPEG
	n := *batchStrips
	for b.Loop() {
		db := filepath.Join(b.TempDir(), "audit.db")
		// Score the first tenth, then the rest, and compare resident memory.
		first := n / 10
		run := func(count int) {
			args := []string{"scan", "--audit", "--db", db, "--model", tinyModel}
			for i := 0; i < count; i++ {
				args = append(args, strip)
			}
			if code := Run(args, Env{Stdout: io.Discard, Stderr: io.Discard}); code != ExitOK {
				b.Fatalf("scan exit %d", code)
			}
		}
		run(first)
		runtime.GC()
		rssAfterFirst := residentKB()
		start := time.Now()
		run(n - first)
		elapsed := time.Since(start)
		runtime.GC()
		b.ReportMetric(float64(n-first)/elapsed.Seconds(), "strips/s")
		b.ReportMetric(float64(rssAfterFirst)/1024, "MB-rss-at-10%")
		b.ReportMetric(float64(residentKB()-rssAfterFirst)/1024, "MB-rss-growth")
	}
}

func stripBytes() []byte {
	data, err := os.ReadFile(filepath.Join("..", "assets", "demo", "scratches.jpg"))
	if err != nil {
		panic(err)
	}
	return data
}

// residentKB reads this process's resident memory (VmRSS) in KiB.
func residentKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return 0
}
