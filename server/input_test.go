package server

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"

	"steelinspect/internal/testimg"
	"steelinspect/verdict"
)

func pngHeaderOnly(w, h uint32) []byte { return testimg.PNGHeaderOnly(w, h) }

func stripJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1600, 256))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPredictBadInput sends every kind of bad request and checks the
// status, that the body is a JSON error saying what is wrong, that the model
// never ran, and that the server is still up afterwards.
func TestPredictBadInput(t *testing.T) {
	const bodyLimit = 1 << 20
	ts := start(t, Config{MaxBodyBytes: bodyLimit})
	good := blackStrip(t)
	png := good
	jpg := stripJPEG(t)
	huge := pngHeaderOnly(60000, 60000)
	grey := image.NewGray(image.Rect(0, 0, 400, 256))
	big := bytes.Repeat([]byte{0xff}, bodyLimit+1)
	big = append(append([]byte{}, png...), big...) // a real PNG header, then far too much

	type request struct {
		method, path, contentType string
		body                      []byte
	}
	raw := func(ct string, body []byte) request {
		return request{http.MethodPost, "/api/predict", ct, body}
	}
	form := func(parts ...formPart) request {
		body, ct := formBody(t, parts...)
		return request{http.MethodPost, "/api/predict", ct, body}
	}
	withQuery := func(r request, q string) request { r.path += q; return r }
	img := func(data []byte) formPart { return formPart{name: "image", filename: "x.png", data: data} }
	field := func(name, v string) formPart { return formPart{name: name, data: []byte(v)} }

	for _, c := range []struct {
		name   string
		req    request
		status int
		says   string
	}{
		{"text body as image/png", raw("image/png", []byte("hello, this is not an image")), 415, "not a supported image"},
		{"text file in the form", form(img([]byte("hello, this is not an image"))), 415, "not a supported image"},
		{"GIF is not supported", raw("image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")), 415, "not a supported image"},
		{"JSON body", raw("application/json", []byte(`{"image": "x"}`)), 415, "unsupported Content-Type"},
		{"octet-stream body", raw("application/octet-stream", png), 415, "unsupported Content-Type"},
		{"no Content-Type", raw("", png), 415, "missing Content-Type"},
		{"malformed Content-Type", raw("image/", png), 415, "malformed Content-Type"},
		{"multipart without boundary", raw("multipart/form-data", png), 400, "malformed multipart"},
		{"truncated PNG", raw("image/png", png[:len(png)/2]), 422, "could not be decoded"},
		{"truncated JPEG", raw("image/jpeg", jpg[:len(jpg)/3]), 422, "could not be decoded"},
		{"PNG header cut short", raw("image/png", png[:20]), 422, "corrupt png data: unreadable header"},
		{"JPEG-in-TIFF", raw("image/tiff", testimg.TIFFWithTag(grey, testimg.TIFFCompression, 7)), 415, "unsupported TIFF: JPEG compression inside TIFF"},
		{"CMYK TIFF", raw("image/tiff", testimg.TIFFWithTag(grey, testimg.TIFFPhotometric, 5)), 415, "unsupported TIFF: its colour model"},
		{"32-bit TIFF", raw("image/tiff", testimg.TIFFWithTag(grey, testimg.TIFFBitsPerSample, 32)), 415, "unsupported TIFF: BitsPerSample of 32"},
		{"60000x60000 PNG header", raw("image/png", huge), 413, "above the limit"},
		{"60000x60000 PNG in the form", form(img(huge)), 413, "above the limit"},
		{"body over the limit", raw("image/png", big), 413, "over the limit of 1 MiB"},
		{"form over the limit", form(img(big)), 413, "over the limit of 1 MiB"},
		{"empty image body", raw("image/png", nil), 400, "empty"},
		{"empty image field", form(img(nil)), 400, "empty"},
		{"no image field", form(field("pass_threshold", "0.3")), 400, `missing form field "image"`},
		{"image field twice", form(img(good), img(good)), 400, "more than once"},
		{"unknown form field", form(img(good), field("colour", "blue")), 400, `unknown form field "colour"`},
		{"unnamed part", form(img(good), field("", "x")), 400, "without a form field name"},
		{"unknown query parameter", request{http.MethodPost, "/api/predict?threshold=0.5", "image/png", good}, 400, `unknown query parameter "threshold"`},
		{"query parameter twice", request{http.MethodPost, "/api/predict?pass_threshold=0.3&pass_threshold=0.2", "image/png", good}, 400, "more than once"},
		{"malformed query", request{http.MethodPost, "/api/predict?pass_threshold=%zz", "image/png", good}, 400, "malformed query"},
		{"threshold in query and form", withQuery(form(img(good), field("pass_threshold", "0.3")), "?pass_threshold=0.3"), 400, "more than once"},
		{"pass above 1", form(img(good), field("pass_threshold", "1.5")), 400, `"1.5" is out of range`},
		{"reject below 0", request{http.MethodPost, "/api/predict?reject_threshold=-0.1", "image/png", good}, 400, `"-0.1" is out of range`},
		{"threshold beyond float64", form(img(good), field("pass_threshold", "1e400")), 400, `"1e400" is out of range`},
		{"hexadecimal threshold", request{http.MethodPost, "/api/predict?pass_threshold=0x1p-2", "image/png", good}, 400, `"0x1p-2" is not a decimal number`},
		{"thresholds out of order", form(img(good), field("pass_threshold", "0.7"), field("reject_threshold", "0.5")), 400, "out of order"},
		{"pass alone above default reject", form(img(good), field("pass_threshold", "0.7")), 400, "out of order"},
		{"equal thresholds", request{http.MethodPost, "/api/predict?pass_threshold=0.5&reject_threshold=0.5", "image/png", good}, 400, "out of order"},
		{"threshold not a number", form(img(good), field("reject_threshold", "high")), 400, "not a decimal number"},
		{"threshold NaN", request{http.MethodPost, "/api/predict?pass_threshold=NaN", "image/png", good}, 400, "not a decimal number"},
		{"threshold Inf", request{http.MethodPost, "/api/predict?reject_threshold=Inf", "image/png", good}, 400, "not a decimal number"},
		{"threshold field too long", form(img(good), field("pass_threshold", strings.Repeat("0", 100))), 400, "too long"},
		{"GET /api/predict", request{http.MethodGet, "/api/predict", "", nil}, 405, "use POST"},
		{"PUT /api/predict", request{http.MethodPut, "/api/predict", "image/png", good}, 405, "use POST"},
		{"DELETE /api/model", request{http.MethodDelete, "/api/model", "", nil}, 405, "use GET"},
		{"POST /healthz", request{http.MethodPost, "/healthz", "", nil}, 405, "use GET"},
		{"POST /metrics", request{http.MethodPost, "/metrics", "", nil}, 405, "use GET"},
		{"unknown path", request{http.MethodGet, "/api/nothing", "", nil}, 404, "no endpoint /api/nothing"},
		{"root", request{http.MethodGet, "/", "", nil}, 404, "no endpoint /"},
		{"predict with trailing slash", request{http.MethodPost, "/api/predict/", "image/png", good}, 404, "no endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.req.method, ts.url+c.req.path, c.req.contentType, c.req.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			var e errorBody
			r.json(t, &e)
			if !strings.Contains(e.Error, c.says) {
				t.Errorf("error %q, want it to say %q", e.Error, c.says)
			}
			if e.RequestID == "" {
				t.Error("error body has no request_id")
			}
			if c.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	if runs := ts.engine.Runs(); runs != 0 {
		t.Errorf("bad requests ran the model %d times; all should be refused before inference", runs)
	}
	if p := decodePrediction(t, predictForm(t, ts.url, good)); !p.Decision.Is(verdict.Pass) {
		t.Errorf("after the bad requests: decision %s", p.Decision)
	}
}

// TestPredictSmallAndOddImages: images that are not 1600×256 are scored
// (patches clipped or edge-padded), never a server error.
func TestPredictSmallAndOddImages(t *testing.T) {
	ts := start(t, Config{})
	for _, size := range []image.Point{{1, 1}, {100, 40}, {256, 256}, {300, 1600}} {
		img := image.NewGray(image.Rect(0, 0, size.X, size.Y))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		r := do(t, http.MethodPost, ts.url+"/api/predict", "image/jpeg", buf.Bytes())
		p := decodePrediction(t, r)
		if p.Image.Width != size.X || p.Image.Height != size.Y || len(p.Patches) == 0 {
			t.Errorf("%v: image %+v, %d patches", size, p.Image, len(p.Patches))
		}
	}
}
