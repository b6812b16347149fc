// Package assets holds the files bundled into the binary: the application
// icon and the demo strips offered one click away in the window.
//
// It knows nothing of Fyne or the UI; callers get plain bytes.
package assets

import (
	"embed"
	"path"
	"slices"
	"strings"
)

//go:embed demo/*.jpg icon.png
var files embed.FS

// Demo is one bundled demo strip.
type Demo struct {
	// Name is the file name, e.g. "pitting.jpg".
	Name string
	// Data is the encoded image.
	Data []byte
}

// demoOrder lists the demo strips in the order a user should meet them:
// clean strips first, then one per defect class, then the harder ones.
// Files not named here follow in alphabetical order.
var demoOrder = []string{
	"clean-1.jpg", "clean-2.jpg", "pitting.jpg", "crazing.jpg",
	"scratches.jpg", "patches.jpg", "scratches-faint.jpg", "mixed.jpg",
}

// DemoStrips returns the bundled demo strips in display order.
func DemoStrips() []Demo {
	entries, err := files.ReadDir("demo")
	if err != nil {
		return nil
	}
	var demos []Demo
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".jpg") {
			continue
		}
		data, err := files.ReadFile(path.Join("demo", e.Name()))
		if err != nil {
			continue
		}
		demos = append(demos, Demo{Name: e.Name(), Data: data})
	}
	rank := func(name string) int {
		if i := slices.Index(demoOrder, name); i >= 0 {
			return i
		}
		return len(demoOrder)
	}
	slices.SortStableFunc(demos, func(a, b Demo) int {
		if ra, rb := rank(a.Name), rank(b.Name); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return demos
}

// Icon returns the application icon, a 256×256 PNG.
func Icon() []byte {
	data, err := files.ReadFile("icon.png")
	if err != nil {
		panic("assets: icon.png is not embedded: " + err.Error())
	}
	return data
}
