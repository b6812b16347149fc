package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"steelinspect/internal/csvsafe"
	"steelinspect/verdict"
)

// FromRecord makes the inspection to audit from a scored record. A record
// without a decision (an image that could not be analysed) is an error:
// the trail holds decided strips only.
func FromRecord(r *verdict.Record, source string) (Inspection, error) {
	auto, ok := r.Decision.Get()
	if !ok {
		return Inspection{}, fmt.Errorf("%s has no decision to record", r.Path)
	}
	in := Inspection{
		InspectedAt:     time.Now(),
		Source:          source,
		Path:            r.Path,
		ModelName:       r.Model.Name,
		ModelVersion:    r.Model.Version,
		ModelSHA256:     r.Model.SHA256,
		PassThreshold:   r.Thresholds.Pass,
		RejectThreshold: r.Thresholds.Reject,
		Confidence:      r.Confidence,
		MeanProbability: r.MeanProbability,
		AutoDecision:    auto,
	}
	if r.Image != nil {
		in.SHA256, in.Width, in.Height, in.Bytes = r.Image.SHA256, r.Image.Width, r.Image.Height, r.Image.Bytes
	}
	kinds := make([]string, len(r.Cautions))
	for i, c := range r.Cautions {
		kinds[i] = string(c.Kind)
	}
	in.CautionKinds, in.Cautions = strings.Join(kinds, ","), verdict.CautionReasons(r.Cautions)
	if r.Familiarity != nil {
		score := r.Familiarity.Score
		in.Familiarity = &score
	}
	in.DefectClass, in.DefectPatches = r.DefectClass, classPatches(r)
	return in, nil
}

// classPatches is how many of r's flagged patches share its defect class
// (verdict.LikelyClass); 0 when it has none.
func classPatches(r *verdict.Record) int {
	patches := make([]verdict.Patch, len(r.Patches))
	zones := make([]verdict.Zone, len(r.Patches))
	for k, p := range r.Patches {
		patches[k], zones[k] = p.Patch, p.Zone
	}
	if class, n := verdict.LikelyClass(patches, zones); r.DefectClass != "" && class == r.DefectClass {
		return n
	}
	return 0
}

var csvColumns = []string{"id", "inspected_at", "source", "path", "sha256", "width", "height", "bytes",
	"model_name", "model_version", "model_sha256", "pass_threshold", "reject_threshold", "confidence",
	"mean_probability", "auto_decision", "operator_decision", "final_decision", "operator", "reviewed_at", "review_reason",
	"caution_kinds", "cautions", "familiarity", "chain_seq", "chain_hash", "archive_path", "archive_sha256", "station",
	"file_path", "file_note", "defect_class", "defect_patches"}

// InspectionWriter writes inspections one at a time, as an export
// streams them: CSV or JSON lines.
type InspectionWriter interface {
	Write(in *Inspection) error
	// Flush writes what is buffered (the CSV header at least) and says
	// whether every write succeeded.
	Flush() error
}

// NewInspectionWriter writes inspections to w as format: "csv" or
// "jsonl".
func NewInspectionWriter(w io.Writer, format string) InspectionWriter {
	if format == "jsonl" {
		return jsonlWriter{json.NewEncoder(w)}
	}
	return &csvWriter{cw: csvsafe.NewWriter(w)}
}

// WriteCSV writes inspections as CSV with a header row. Text that came
// from outside (file names, operator names, reasons) is neutralised for
// spreadsheets (package csvsafe).
func WriteCSV(w io.Writer, list []Inspection) error {
	return writeAll(NewInspectionWriter(w, "csv"), list)
}

// WriteJSONL writes one JSON object per inspection per line.
func WriteJSONL(w io.Writer, list []Inspection) error {
	return writeAll(NewInspectionWriter(w, "jsonl"), list)
}

func writeAll(iw InspectionWriter, list []Inspection) error {
	for i := range list {
		if err := iw.Write(&list[i]); err != nil {
			return err
		}
	}
	return iw.Flush()
}

type csvWriter struct {
	cw     *csvsafe.Writer
	header bool
}

func (c *csvWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.cw.Write(csvColumns)
}

func (c *csvWriter) Write(in *Inspection) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	reviewed := ""
	if !in.ReviewedAt.IsZero() {
		reviewed = in.ReviewedAt.UTC().Format(time.RFC3339)
	}
	patches := ""
	if in.DefectClass != "" {
		patches = strconv.Itoa(in.DefectPatches)
	}
	familiarity := ""
	if in.Familiarity != nil {
		familiarity = strconv.FormatFloat(*in.Familiarity, 'f', 3, 64)
	}
	return c.cw.Write([]string{strconv.FormatInt(in.ID, 10), in.InspectedAt.UTC().Format(time.RFC3339Nano), in.Source,
		in.Path, in.SHA256, strconv.Itoa(in.Width), strconv.Itoa(in.Height), strconv.Itoa(in.Bytes),
		in.ModelName, in.ModelVersion, in.ModelSHA256, f(in.PassThreshold), f(in.RejectThreshold), f(in.Confidence),
		f(in.MeanProbability), in.AutoDecision.String(), in.OperatorDecision.String(), in.FinalDecision().String(), in.Operator, reviewed, in.ReviewReason,
		in.CautionKinds, in.Cautions, familiarity, strconv.FormatInt(in.ChainSeq, 10), in.ChainHash, in.ArchivePath, in.ArchiveSHA256, in.Station,
		in.FilePath, in.FileNote, in.DefectClass, patches})
}

func (c *csvWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.cw.Flush()
}

type jsonlWriter struct{ enc *json.Encoder }

func (j jsonlWriter) Write(in *Inspection) error {
	row := struct {
		*Inspection
		FinalDecision verdict.Decision `json:"final_decision"`
	}{in, in.FinalDecision()}
	if err := j.enc.Encode(row); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (jsonlWriter) Flush() error { return nil }
