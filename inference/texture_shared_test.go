package inference

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The real strips live beside the checkout, never in it (Kaggle's and the
// CR7-DET repository's terms): ../shared relative to the repository.
var sharedData = filepath.Join("..", "..", "shared")

func needSharedData(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(sharedData, dir)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data not here (%s): the shared folder beside the checkout holds it", p)
	}
	return p
}

// TestRealStripsHaveTexture: no real Severstal strip we have is called
// implausible, and each shows steel texture with room to spare: dark ones
// (mean grey 4), partly black ones, brightened copies, the unlabelled
// test strips.
func TestRealStripsHaveTexture(t *testing.T) {
	root := needSharedData(t, "real-severstal")
	var paths []string
	for _, pattern := range []string{
		filepath.Join(root, "train_images", "*"),
		filepath.Join(root, "train_images_nomask", "*"),
		filepath.Join(sharedData, "real-severstal-unlabelled", "*"),
	} {
		ps, _ := filepath.Glob(pattern)
		for _, p := range ps {
			if IsImageFileName(p) {
				paths = append(paths, p)
			}
		}
	}
	if len(paths) < 50 {
		t.Fatalf("only %d real strips under %s", len(paths), sharedData)
	}
	lowest, lowestName := math.Inf(1), ""
	for _, p := range paths {
		data, err := ReadImageFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DecodeImage(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if r := ImplausibleReason(d.Width, d.Height, d.Stats, nil); r != "" {
			t.Errorf("%s: %q", filepath.Base(p), r)
		}
		if s := d.Stats.Texture.Score; s < lowest {
			lowest, lowestName = s, filepath.Base(p)
		}
		// the generic floor is 1: every real strip must clear it four times over
		if s := d.Stats.Texture.Score; !d.Stats.Texture.Judged || s < 4 {
			t.Errorf("%s: texture %.2f (judged %v), want at least four times the floor", filepath.Base(p), s, d.Stats.Texture.Judged)
		}
	}
	t.Logf("%d real strips; the least textured, %s, scores %.2f (floor 1)", len(paths), lowestName, lowest)
}

// cr7Crop is one defect-free 256×256 crop of a CR7-DET image.
type cr7Crop struct {
	name  string
	stats ImageStats
}

// cr7CleanCrops cuts every CR7-DET image as the data set's make_crops.py
// does for its defect-free crop: a 256×256 window on an 8-pixel grid with
// no box within 4 px. make_crops.py picks one such window at random; this
// picks one by a hash of the image's name.
func cr7CleanCrops(t *testing.T, root string) []cr7Crop {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(root, "images", "*.jpg"))
	if len(names) == 0 {
		t.Skipf("no CR7-DET images under %s", root)
	}
	var crops []cr7Crop
	for _, p := range names {
		stem := strings.TrimSuffix(filepath.Base(p), ".jpg")
		boxes := readYOLOBoxes(t, filepath.Join(root, "labels", stem+".txt"))
		if len(boxes) == 0 {
			continue // make_crops.py skips an image without boxes
		}
		g := decodeLuma(t, p)
		free := freeWindows(g.Bounds().Dx(), g.Bounds().Dy(), boxes)
		if len(free) == 0 {
			continue
		}
		sum := sha256.Sum256([]byte(stem))
		at := free[binary.BigEndian.Uint64(sum[:8])%uint64(len(free))]
		crop := image.NewGray(image.Rect(0, 0, 256, 256))
		draw.Draw(crop, crop.Bounds(), g, at, draw.Src)
		crops = append(crops, cr7Crop{stem + "_clean", MeasureImage(crop)})
	}
	return crops
}

// decodeLuma decodes a JPEG's luma (a CR7-DET image is a colour JPEG of
// grey steel) without measuring the whole image.
func decodeLuma(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return grayView(img)
}

// readYOLOBoxes reads one CR7-DET label file: "class cx cy w h" per box,
// normalised to the 400×400 image, as pixel rectangles.
func readYOLOBoxes(t *testing.T, path string) []image.Rectangle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var boxes []image.Rectangle
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		if len(p) != 5 {
			continue
		}
		var v [4]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(p[i+1], 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		const side = 400
		boxes = append(boxes, image.Rect(
			int(math.Round((v[0]-v[2]/2)*side)), int(math.Round((v[1]-v[3]/2)*side)),
			int(math.Round((v[0]+v[2]/2)*side)), int(math.Round((v[1]+v[3]/2)*side))))
	}
	return boxes
}

// freeWindows lists the top-left corners, on an 8-pixel grid, of the
// 256×256 windows of a w×h image with no box within 4 px.
func freeWindows(w, h int, boxes []image.Rectangle) []image.Point {
	var free []image.Point
	for y := 0; y+256 <= h; y += 8 {
		for x := 0; x+256 <= w; x += 8 {
			win := image.Rect(x, y, x+256, y+256)
			clear := true
			for _, b := range boxes {
				if b.Inset(-4).Overlaps(win) {
					clear = false
					break
				}
			}
			if clear {
				free = append(free, image.Pt(x, y))
			}
		}
	}
	return free
}

// TestCR7CleanCropsKeepTheirLine: the clean crops of the real cold-rolled
// line (../shared/real-cr7) include steel smoother than the generic
// floors; judged against the line's own good strips, as a model taught or
// learned on that line does, none of them is called implausible. Each
// half of the crops (split by a hash of the name) is judged by a line
// measured on the other half. Crops of black frames (no steel under the
// camera: the black check, not texture) are left out. With that line, flat
// grey with sensor noise saved losslessly is still caught.
func TestCR7CleanCropsKeepTheirLine(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2,400 real images")
	}
	crops := cr7CleanCrops(t, needSharedData(t, "real-cr7"))
	var half [2][]cr7Crop
	black, generic, uniform := 0, 0, 0
	for _, c := range crops {
		r := ImplausibleReason(256, 256, c.stats, nil)
		if strings.Contains(r, "black frame") {
			black++
			continue
		}
		if r != "" {
			generic++
		}
		if strings.Contains(r, "nearly uniform") {
			uniform++
		}
		sum := sha256.Sum256([]byte(c.name))
		half[sum[0]&1] = append(half[sum[0]&1], c)
	}
	if generic == 0 {
		t.Error("the generic floors flag none of the clean cold-rolled crops: this test no longer shows the line's statistics at work")
	}
	for i, judged := range half {
		fitted := half[1-i]
		stats := make([]ImageStats, len(fitted))
		for j, c := range fitted {
			stats[j] = c.stats
		}
		line, outliers := FitLineTexture(stats)
		if line == nil {
			t.Fatal("no line fitted")
		}
		for j, out := range outliers {
			if out {
				t.Errorf("%s: left out of the line as showing no steel", fitted[j].name)
			}
		}
		for _, c := range judged {
			if r := ImplausibleReason(256, 256, c.stats, line); r != "" {
				t.Errorf("%s (texture %.3f, spread %.2f): %q with the line fitted on the other half (floor %.3f, uniform below %.2f)",
					c.name, c.stats.Texture.Score, c.stats.Std, r, line.Floor(), line.uniformFloor())
			}
		}
		t.Logf("line on %d crops: texture min %.3f, p05 %.2f, median %.2f, spread min %.2f: floor %.3f; judged %d crops",
			line.Strips, line.Min, line.P05, line.Median, line.StdMin, line.Floor(), len(judged))
		caught := 0
		for _, sigma := range []float64{1, 2, 3, 4, 5, 6} {
			img := frame(256, 256, sigma, uint64(sigma), func(int, int) float64 { return 120 })
			d, err := DecodeImage(encodeAs(t, img, "png"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if ImplausibleReason(256, 256, d.Stats, line) != "" {
				caught++
			} else {
				t.Errorf("flat grey ±%.0f (PNG) passes the line's floor %.3f (texture %.3f)", sigma, line.Floor(), d.Stats.Texture.Score)
			}
		}
	}
	t.Logf("%d clean crops: %d black frames left out, %d called implausible by the generic floors (%d nearly uniform, %d no steel texture)",
		len(crops), black, generic, uniform, generic-uniform)
}
