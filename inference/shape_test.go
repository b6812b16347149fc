package inference

import (
	"errors"
	"image"
	"strings"
	"testing"

	"steelinspect/internal/testimg"
)

// TestImplausibleShapeRefusedFromHeader: a tiny file declaring a shape no
// strip camera gives (a 124-byte PNG of 39000×1 cost 25 strips' time,
// scored padded to 39000×256) is refused from its header, before any
// decode; a wide but plausible strip is not.
func TestImplausibleShapeRefusedFromHeader(t *testing.T) {
	for _, c := range []struct {
		w, h int
		bad  bool
	}{
		{39000, 1, true}, {1, 39000, true}, {2000, 40, true}, {8200, 256, true},
		{1600, 256, false}, {8192, 256, false}, {1000, 40, false}, {256, 1600, false},
	} {
		data := testimg.PNG(image.NewGray(image.Rect(0, 0, c.w, c.h)))
		_, _, err := ReadHeader(data, 0)
		switch {
		case c.bad && (!errors.Is(err, ErrImplausibleShape) || !strings.Contains(err.Error(), "no strip camera gives (at most 32:1): refused before decoding")):
			t.Errorf("%d×%d: %v, want refused for its shape", c.w, c.h, err)
		case !c.bad && err != nil:
			t.Errorf("%d×%d: refused: %v", c.w, c.h, err)
		}
	}
	if _, err := DecodeImage(testimg.PNG(image.NewGray(image.Rect(0, 0, 39000, 1))), 0); !errors.Is(err, ErrImplausibleShape) {
		t.Errorf("DecodeImage of 39000×1: %v", err)
	}
}
