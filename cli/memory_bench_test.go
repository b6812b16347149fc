package cli

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"steelinspect/internal/testimg"
)

// BenchmarkPeakRSS measures the resident peak of the real binary, one
// process per case: `scan` of one 1600×256 grey JPEG strip, `scan` of one
// 7000×7000 RGB PNG (143 KB of file, 49 megapixels), and `serve` answering
// 32 concurrent uploads of a 3000×3000 RGB PNG (the API's largest accepted
// size class). STEELINSPECT_BENCH_BIN runs another build (e.g. an earlier
// commit's) for a before/after comparison:
//
//	go test ./cli -run '^$' -bench PeakRSS -benchtime 1x
func BenchmarkPeakRSS(b *testing.B) {
	bin := os.Getenv("STEELINSPECT_BENCH_BIN")
	dir := b.TempDir()
	if bin == "" {
		bin = filepath.Join(dir, "steelinspect")
		if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	strip := filepath.Join(dir, "strip.jpg")
	os.WriteFile(strip, testimg.JPEG(testimg.TexturedStrip(1600, 256, 600, 700, 230)), 0o644)
	big := filepath.Join(dir, "big.png")
	os.WriteFile(big, testimg.PNG(stripedRGB(7000)), 0o644)
	mid := testimg.PNG(stripedRGB(3000))

	peak := func(b *testing.B, cmd *exec.Cmd) float64 {
		rusage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			b.Skip("no rusage here")
		}
		return float64(rusage.Maxrss) / 1024 // KiB on Linux
	}
	for _, c := range []struct{ name, file string }{{"scan-strip-jpeg", strip}, {"scan-rgb-png-7000x7000", big}} {
		b.Run(c.name, func(b *testing.B) {
			var mb float64
			for b.Loop() {
				cmd := exec.Command(bin, "scan", c.file)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("scan: %v\n%s", err, out)
				}
				mb = peak(b, cmd)
			}
			b.ReportMetric(mb, "MB-peak-RSS")
		})
	}
	b.Run("serve-32-uploads-rgb-png-3000x3000", func(b *testing.B) {
		var mb float64
		for b.Loop() {
			cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--no-audit")
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			line, _ := bufio.NewReader(stderr).ReadString('\n')
			url := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
			if url == "" {
				cmd.Process.Kill()
				b.Fatalf("serve did not say where it listens: %q", line)
			}
			var wg sync.WaitGroup
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r, err := http.Post(url+"/api/predict", "image/png", bytes.NewReader(mid)); err == nil {
						r.Body.Close()
					}
				}()
			}
			wg.Wait()
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				<-done
			}
			mb = peak(b, cmd)
		}
		b.ReportMetric(mb, "MB-peak-RSS")
	})
}

// stripedRGB is an n×n colour picture that compresses well (a PNG of a few
// hundred KB): what a camera misconfigured to colour, or a mistaken file,
// sends. Its pixels are computed, not stored: a child's ru_maxrss starts
// from its parent's high-water mark (os/exec starts children sharing the
// parent's memory until exec), so this process must never grow large
// itself.
func stripedRGB(n int) image.Image { return stripes(n) }

type stripes int

func (s stripes) ColorModel() color.Model { return color.RGBAModel }
func (s stripes) Bounds() image.Rectangle { return image.Rect(0, 0, int(s), int(s)) }
func (s stripes) At(x, y int) color.Color {
	return color.RGBA{uint8(200 * ((y / 7) % 2)), uint8(120 * ((x / 5) % 2)), 40, 255}
}
