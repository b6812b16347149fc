package assets

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestIconIsPNG(t *testing.T) {
	cfg, err := png.DecodeConfig(bytes.NewReader(Icon()))
	if err != nil {
		t.Fatalf("icon: %v", err)
	}
	if cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("icon is %d×%d, want 256×256", cfg.Width, cfg.Height)
	}
}

func TestDemoStripsOrdered(t *testing.T) {
	demos := DemoStrips()
	if len(demos) == 0 {
		t.Skip("no demo strips bundled")
	}
	rank := -1
	for _, d := range demos {
		if !strings.HasSuffix(d.Name, ".jpg") || len(d.Data) == 0 {
			t.Errorf("demo %q: %d bytes", d.Name, len(d.Data))
		}
		for k, name := range demoOrder {
			if name == d.Name {
				if k < rank {
					t.Errorf("%s out of order", d.Name)
				}
				rank = k
			}
		}
	}
}
