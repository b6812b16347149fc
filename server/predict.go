package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"steelinspect/inference"
	"steelinspect/station"
	"steelinspect/verdict"
)

// The optional fields of a prediction request, as form fields (multipart)
// or query parameters (either body).
const (
	fieldImage  = "image"
	fieldPass   = "pass_threshold"
	fieldReject = "reject_threshold"
)

// maxFieldBytes bounds a threshold form field: a number needs few bytes.
const maxFieldBytes = 64

// predictResponse is the answer of POST /api/predict: an verdict.Record
// (the seed's fields, patches, model identity, thresholds, timings) with the
// request's id and how the server handled it.
type predictResponse struct {
	RequestID string `json:"request_id"`
	// AuditID is the decision's record in the audit trail (0, left out,
	// when the server keeps none).
	AuditID int64 `json:"audit_id,omitempty"`
	verdict.Record
	// BatchImages is how many requests' images shared the engine call
	// that scored this one (timings_ms covers that whole call).
	BatchImages int `json:"batch_images"`
	// ServerMS is the time from the request's arrival to its answer,
	// queueing included.
	ServerMS float64 `json:"server_ms"`
}

// httpError is a request the server refuses, with the status to answer.
type httpError struct {
	status int
	msg    string
}

func refuse(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// upload is one image to score and the threshold values its request gave.
type upload struct {
	name   string
	data   []byte
	values map[string]string // pass_threshold, reject_threshold as sent
}

// Cyclomatic complexity above 15, kept: the request's refusals in the order they apply (size, body, slot, thresholds, header, queue, timeout), each with its status.
//
//gocyclo:ignore
func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	// A body announced above the limit is refused before a byte of it is
	// read (and, with "Expect: 100-continue", before the client is told to
	// send it): it costs neither memory nor an upload slot.
	if r.ContentLength > s.cfg.MaxBodyBytes {
		w.Header().Set("Connection", "close")
		s.writeError(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes is over the limit of %s", r.ContentLength, byteSize(s.cfg.MaxBodyBytes)))
		return
	}
	// A body must arrive within BodyTimeout. While it arrives it holds only
	// the bytes it has sent, counted against the server's body budget, not
	// an upload slot: clients trickling a byte every few seconds cannot
	// keep the others out.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil {
		s.log.Printf("set read deadline: %v", err)
	}
	body := &budgetedBody{r: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), budget: s.bodyBudget}
	defer body.release()
	r.Body = body
	up, herr := s.readUpload(r)
	if herr == nil {
		select {
		case s.uploads <- struct{}{}:
			defer func() { <-s.uploads }()
		default:
			w.Header().Set("Retry-After", "1")
			s.writeError(w, r, http.StatusServiceUnavailable,
				fmt.Sprintf("server busy: %d requests are already being handled; retry shortly", cap(s.uploads)))
			return
		}
	}
	var th verdict.Thresholds
	if herr == nil {
		th, herr = s.thresholds(r.Context(), up.values)
	}
	if herr == nil && len(up.values) > 0 && !mayChooseThresholds(roleOf(r)) {
		inForce, _ := s.inForce(r.Context())
		herr = refuse(http.StatusForbidden, "a request's own thresholds need a supervisor's token (serve --token-file with a line \"supervisor TOKEN\"); send none to be decided with the station's (pass %.2f, reject %.2f)",
			inForce.Pass, inForce.Reject)
	}
	var pixels int64
	if herr == nil {
		pixels, herr = s.checkImage(up.data)
	}
	if herr != nil {
		s.writeError(w, r, herr.status, herr.msg)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	res, err := s.submit(ctx, up.name, up.data, pixels)
	switch {
	case err == nil:
	case errors.Is(err, errQueueFull):
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, http.StatusServiceUnavailable,
			fmt.Sprintf("server busy: %d requests are already waiting for the model; retry shortly", cap(s.queue)))
		return
	case errors.Is(err, errShuttingDown):
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Connection", "close")
		s.writeError(w, r, http.StatusServiceUnavailable, "server is shutting down")
		return
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "1")
		s.writeError(w, r, http.StatusServiceUnavailable,
			fmt.Sprintf("timed out after %s waiting for the model", s.cfg.RequestTimeout))
		return
	default: // the client went away; nobody reads this answer
		s.writeError(w, r, http.StatusServiceUnavailable, "request cancelled: "+err.Error())
		return
	}
	if res.err != nil {
		status, msg := imageFailure(res.err)
		if status == http.StatusInternalServerError {
			s.log.Printf("request %s: analysis failed: %v", requestID(r), res.err)
		}
		s.writeError(w, r, status, msg)
		return
	}
	out, err := s.station.Conclude(r.Context(), res.analysis, th,
		station.Source{Name: station.SourceAPI, AuditPath: fmt.Sprintf("%s (API request %s)", res.analysis.Source, requestID(r)), Data: up.data})
	if err == nil && out.ArchiveErr != nil {
		s.log.Printf("request %s: %v", requestID(r), out.ArchiveErr)
	}
	if err != nil {
		s.log.Printf("request %s: %v", requestID(r), err)
		msg := "decision failed: " + err.Error()
		if errors.Is(err, station.ErrNotRecorded) {
			msg = "decision not recorded in the audit trail: " + err.Error()
		}
		s.writeError(w, r, http.StatusInternalServerError, msg)
		return
	}
	v, rec := out.Verdict, out.Record
	s.metrics.decision(v.Decision)
	writeJSON(w, http.StatusOK, predictResponse{
		RequestID:   requestID(r),
		AuditID:     out.AuditID,
		Record:      rec,
		BatchImages: res.batch,
		ServerMS:    float64(time.Since(received).Microseconds()) / 1000,
	})
}

// readUpload reads the image and the threshold values from the request:
// a multipart/form-data body with an "image" file field, or the image itself
// as the body with Content-Type image/*. Anything else is refused.
func (s *Server) readUpload(r *http.Request) (upload, *httpError) {
	up := upload{values: map[string]string{}}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return up, refuse(http.StatusBadRequest, "malformed query string: %v", err)
	}
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != fieldPass && k != fieldReject {
			return up, refuse(http.StatusBadRequest, "unknown query parameter %q (accepted: %s, %s)", k, fieldPass, fieldReject)
		}
		if len(query[k]) != 1 {
			return up, refuse(http.StatusBadRequest, "query parameter %q given more than once", k)
		}
		up.values[k] = query[k][0]
	}

	ct := r.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return up, refuse(http.StatusUnsupportedMediaType, "missing Content-Type: %s", howToSend)
	case err != nil:
		return up, refuse(http.StatusUnsupportedMediaType, "malformed Content-Type %q: %s", ct, howToSend)
	case mediaType == "multipart/form-data":
		return s.readMultipart(r, up)
	case strings.HasPrefix(mediaType, "image/"):
		data, err := readBody(r.Body)
		if err != nil {
			return up, s.bodyError(err)
		}
		up.name, up.data = "upload", data
		return up, nil
	default:
		return up, refuse(http.StatusUnsupportedMediaType, "unsupported Content-Type %q: %s", mediaType, howToSend)
	}
}

const howToSend = `send multipart/form-data with an "image" file field, or the image itself with Content-Type image/png, image/jpeg, image/bmp or image/tiff`

func (s *Server) readMultipart(r *http.Request, up upload) (upload, *httpError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return up, refuse(http.StatusBadRequest, "malformed multipart/form-data: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, s.bodyError(err)
		}
		name := part.FormName()
		switch name {
		case fieldImage:
			if up.data != nil {
				return up, refuse(http.StatusBadRequest, "form field %q given more than once", fieldImage)
			}
			data, err := readBody(part)
			if err != nil {
				return up, s.bodyError(err)
			}
			up.data = data // never nil, even for an empty part
			up.name = uploadName(part.FileName())
		case fieldPass, fieldReject:
			if _, dup := up.values[name]; dup {
				return up, refuse(http.StatusBadRequest, "%q given more than once (as form field or query parameter)", name)
			}
			v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return up, s.bodyError(err)
			}
			if len(v) > maxFieldBytes {
				return up, refuse(http.StatusBadRequest, "form field %q is too long for a number", name)
			}
			up.values[name] = string(v)
		case "":
			return up, refuse(http.StatusBadRequest, "multipart part without a form field name")
		default:
			return up, refuse(http.StatusBadRequest, "unknown form field %q (accepted: %s, %s, %s)", name, fieldImage, fieldPass, fieldReject)
		}
		part.Close()
	}
	if up.data == nil {
		return up, refuse(http.StatusBadRequest, "missing form field %q (the strip image file)", fieldImage)
	}
	return up, nil
}

// bodyError reports a body that could not be read: too large, or broken.
func (s *Server) bodyError(err error) *httpError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return refuse(http.StatusRequestEntityTooLarge, "request body is over the limit of %s", byteSize(s.cfg.MaxBodyBytes))
	}
	if errors.Is(err, errBodyBudget) {
		return refuse(http.StatusServiceUnavailable, "server busy: %v; retry shortly", err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return refuse(http.StatusRequestTimeout, "the request body did not arrive within %s", s.cfg.BodyTimeout)
	}
	return refuse(http.StatusBadRequest, "could not read the request body: %v", err)
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// uploadName is the client's file name, kept for the record's "path"; it
// is already a base name (multipart.Part.FileName), so only length and
// control characters need taming.
func uploadName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	if name == "" || name == "." || name == "/" {
		return "upload"
	}
	return name
}

// inForce are the station's thresholds in force (Station.Follow), else
// the model's defaults.
func (s *Server) inForce(ctx context.Context) (verdict.Thresholds, error) {
	if s.follow == nil {
		return s.engine.Manifest().DefaultThresholds, nil
	}
	return s.follow(ctx)
}

// thresholds are the station's thresholds in force with the request's
// values applied.
func (s *Server) thresholds(ctx context.Context, values map[string]string) (verdict.Thresholds, *httpError) {
	th, err := s.inForce(ctx)
	if err != nil {
		return th, refuse(http.StatusInternalServerError, "cannot read the station's thresholds in force: %v", err)
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{fieldPass, &th.Pass}, {fieldReject, &th.Reject}} {
		raw, ok := values[f.name]
		if !ok {
			continue
		}
		v, err := verdict.ParseThreshold(raw)
		if err != nil {
			return th, refuse(http.StatusBadRequest, "%s %v", f.name, err)
		}
		*f.dst = v
	}
	if err := th.Validate(); err != nil {
		return th, refuse(http.StatusBadRequest, "%v", err)
	}
	return th, nil
}

// mayChooseThresholds says whether a token's role may send thresholds.
func mayChooseThresholds(role string) bool { return role == RoleSupervisor || role == RoleAdmin }

// checkImage refuses, from its header alone, an upload the engine would
// refuse, so that it costs neither a queue slot nor a decode. It returns
// the pixel count the engine will score (the image padded to whole
// patches).
func (s *Server) checkImage(data []byte) (int64, *httpError) {
	cfg, _, err := inference.ReadHeader(data, s.cfg.MaxPixels)
	if err != nil {
		status, msg := imageFailure(err)
		return 0, refuse(status, "%s", msg)
	}
	w, h := inference.ScoredSize(cfg.Width, cfg.Height)
	return w * h, nil
}

// imageFailure maps what the engine refuses about an image to a status:
// empty 400, not a format it reads or a feature its decoder does not
// support 415 (unsupported, not damaged), above the pixel limit 413,
// damaged or a shape no strip camera gives 422. Anything else went wrong in the model run: 500.
func imageFailure(err error) (int, string) {
	msg := err.Error()
	switch {
	case errors.Is(err, inference.ErrEmptyImage):
		return http.StatusBadRequest, msg
	case errors.Is(err, inference.ErrUnsupportedFormat), errors.Is(err, inference.ErrUnsupportedFeature):
		return http.StatusUnsupportedMediaType, msg
	case errors.Is(err, inference.ErrImageTooLarge):
		return http.StatusRequestEntityTooLarge, msg
	case errors.Is(err, inference.ErrCorruptImage):
		return http.StatusUnprocessableEntity, "image could not be decoded: " + msg
	case errors.Is(err, inference.ErrImplausibleShape):
		return http.StatusUnprocessableEntity, "image refused: " + msg
	}
	return http.StatusInternalServerError, "analysis failed: " + msg
}
