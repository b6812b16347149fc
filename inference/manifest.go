package inference

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"steelinspect/internal/strictjson"
	"steelinspect/verdict"
)

// Manifest describes one model: what it is, how to feed it and how to read
// its output. It lives next to the .onnx file as NAME.manifest.json.
type Manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Kind is "classifier" (trained on labelled defects; the default) or
	// "anomaly" (taught on good strips only).
	Kind              string             `json:"kind,omitempty"`
	File              string             `json:"file"`
	SHA256            string             `json:"sha256"`
	Variant           string             `json:"variant"`
	Input             InputSpec          `json:"input"`
	Preprocessing     Preprocessing      `json:"preprocessing"`
	Output            OutputSpec         `json:"output"`
	Classes           []string           `json:"classes"`
	DefaultThresholds verdict.Thresholds `json:"default_thresholds"`
	// Familiarity names the statistics of the model's training strips in
	// its feature space and the limit above which a strip is unfamiliar;
	// nil for a model without them (it decides on every strip).
	Familiarity *FamiliaritySpec `json:"familiarity,omitempty"`
	// Anomaly holds an anomaly model's memory bank and score mapping; nil
	// for a classifier.
	Anomaly *AnomalySpec `json:"anomaly,omitempty"`
	// WindowHead, when present, makes a whole-strip classifier a station
	// model: a head learned at the station scores its windows.
	WindowHead *WindowHead `json:"window_head,omitempty"`
	// Texture is the texture of the good strips of the model's line, for
	// a model taught or learned on it: frames are judged for steel texture
	// against them (ImplausibleReason). Nil for a model that does not know
	// its line (the generic floors apply), and in manifests written before
	// it was measured.
	Texture    *LineTexture `json:"texture,omitempty"`
	Provenance Provenance   `json:"provenance"`

	familiarityStats *FamiliarityStats // loaded from Familiarity.File
	bank             []float32         // loaded from Anomaly.Bank.File
}

// InputSpec is the model's single image input.
type InputSpec struct {
	Name      string `json:"name"`
	Layout    string `json:"layout"` // NCHW or NHWC
	Channels  int    `json:"channels"`
	PatchSize int    `json:"patch_size"`
	Stride    int    `json:"stride"`
	// Cell is the whole-strip variant's score-map step in pixels (the
	// backbone's output stride): the model takes a whole image whose sides
	// are multiples of Cell and returns one score per PatchSize window at
	// every Cell step. Unused by per-patch models.
	Cell int `json:"cell,omitempty"`
}

// Model variants: how the engine tiles an image for the model.
const (
	// VariantPerPatch models take a batch of PatchSize² patches and return
	// one score per patch.
	VariantPerPatch = "per-patch"
	// VariantWholeStrip models take a whole strip, [1,C,H,W], and return a
	// score map [1,H/Cell-k+1,W/Cell-k+1] (k = PatchSize/Cell) whose entry
	// (r,c) scores the window with its top-left corner at (c·Cell, r·Cell).
	// The backbone runs once over the strip instead of once per patch.
	VariantWholeStrip = "whole-strip"
)

// Preprocessing maps a pixel value v in 0..255 of channel c to the model's
// input: (v*Scale - Mean[c]) / Std[c].
type Preprocessing struct {
	Scale float64   `json:"scale"`
	Mean  []float64 `json:"mean"`
	Std   []float64 `json:"std"`
}

// OutputSpec is the model's output: one score per class for every patch,
// either a probability or a logit (the engine applies the sigmoid).
type OutputSpec struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // probability or logit
	// Features names a whole-strip model's second output, the window
	// features [1,D,rows,cols] its familiarity is measured on ("" for none).
	Features string `json:"features,omitempty"`
	// Domain names a whole-strip model's image-level features [1,D] (one
	// vector per band) that its familiarity file's domain check reads (""
	// for none).
	Domain string `json:"domain,omitempty"`
}

// Provenance records where the model came from and how good it was measured
// to be. Metrics are free-form so each training pipeline can report its own.
type Provenance struct {
	Description string `json:"description,omitempty"`
	TrainedOn   string `json:"trained_on,omitempty"`
	// RealSteel says plainly how the model does on real strips it was not
	// trained on, and on how many: what an inspector should expect.
	RealSteel string         `json:"real_steel,omitempty"`
	Training  string         `json:"training,omitempty"`
	Date      string         `json:"date,omitempty"`
	Heldout   string         `json:"heldout,omitempty"`
	Metrics   map[string]any `json:"metrics,omitempty"`
	// HeldoutWide and MetricsWide describe a second held-out set made by
	// the generator's "wide" style (textures, levels and contrasts beyond
	// the base style): how the model generalises, tracked but with no bar.
	HeldoutWide string         `json:"heldout_wide,omitempty"`
	MetricsWide map[string]any `json:"metrics_wide,omitempty"`
	// Validation and MetricsValidation describe the strips the model was
	// chosen and calibrated on (real ones among them) and how it did;
	// MetricsHeldout holds metrics on named held-out sets.
	Validation        string         `json:"validation,omitempty"`
	MetricsValidation map[string]any `json:"metrics_validation,omitempty"`
	MetricsHeldout    map[string]any `json:"metrics_heldout,omitempty"`
	// DomainCheck says how the model's validated-domain check was fitted
	// and how it did (training/domain_check.py; see domain.go).
	DomainCheck map[string]any `json:"domain_check,omitempty"`
}

// ManifestSuffix ends every manifest file name.
const ManifestSuffix = ".manifest.json"

// maxPatchSize bounds the patch side a manifest may ask for, so a hostile
// manifest cannot make the engine allocate gigabytes.
const maxPatchSize = 2048

// ParseManifest reads and validates a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := strictjson.Decode(data, &m); err != nil {
		return nil, fmt.Errorf("not a valid model manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks that the manifest is complete and self-consistent. Each
// part is checked by its own function; every problem is reported at once.
func (m *Manifest) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	m.validateIdentity(bad)
	m.validateInput(bad)
	m.validatePreprocessing(bad)
	m.validateOutput(bad)
	m.validateFamiliarity(bad)
	m.validateAnomaly(bad)
	m.validateWindowHead(bad)
	m.validateTexture(bad)
	if len(problems) > 0 {
		return fmt.Errorf("manifest %q is invalid: %s", m.Name, strings.Join(problems, "; "))
	}
	return nil
}

// problem collects one problem of a manifest.
type problem func(format string, args ...any)

func (m *Manifest) validateIdentity(bad problem) {
	if m.Name == "" {
		bad("name is empty")
	}
	if m.File == "" {
		bad("file is empty")
	} else if !plainFileName(m.File) {
		bad("file %q must be a file name beside the manifest: a model's files lie in its own folder", m.File)
	}
	if !validHash(m.SHA256) {
		bad("sha256 %q is not 64 hex digits", m.SHA256)
	}
	switch m.Kind {
	case "", KindClassifier, KindAnomaly:
	default:
		bad("kind %q must be %s or %s", m.Kind, KindClassifier, KindAnomaly)
	}
}

// Cyclomatic complexity above 15, kept: a flat list of independent checks, each reporting its own problem.
//
//gocyclo:ignore
func (m *Manifest) validateInput(bad problem) {
	in := m.Input
	switch m.Variant {
	case "", VariantPerPatch:
	case VariantWholeStrip:
		if in.Cell < 1 || in.PatchSize%in.Cell != 0 || in.Stride%in.Cell != 0 {
			bad("input.cell %d must divide patch_size and stride for a whole-strip model", in.Cell)
		}
		if len(m.Classes) > 1 {
			bad("a whole-strip model scores one class, the manifest lists %d", len(m.Classes))
		}
	default:
		bad("variant %q is not supported (want %s or %s)", m.Variant, VariantPerPatch, VariantWholeStrip)
	}
	if in.Name == "" {
		bad("input.name is empty")
	}
	if in.Layout != "NCHW" && in.Layout != "NHWC" {
		bad("input.layout %q must be NCHW or NHWC", in.Layout)
	}
	if in.Channels != 1 && in.Channels != 3 {
		bad("input.channels %d must be 1 or 3", in.Channels)
	}
	if in.PatchSize < 1 || in.PatchSize > maxPatchSize {
		bad("input.patch_size %d must be 1..%d", in.PatchSize, maxPatchSize)
	}
	if in.Stride < 1 || in.Stride > in.PatchSize {
		bad("input.stride %d must be 1..patch_size", in.Stride)
	}
}

func (m *Manifest) validatePreprocessing(bad problem) {
	p := m.Preprocessing
	if !(p.Scale > 0) {
		bad("preprocessing.scale must be positive")
	}
	if len(p.Mean) != m.Input.Channels || len(p.Std) != m.Input.Channels {
		bad("preprocessing.mean and std need one value per channel (%d)", m.Input.Channels)
	}
	for _, s := range p.Std {
		if !(s > 0) {
			bad("preprocessing.std values must be positive")
			break
		}
	}
}

func (m *Manifest) validateOutput(bad problem) {
	if m.Output.Name == "" {
		bad("output.name is empty")
	}
	if k := m.Output.Kind; k != "probability" && k != "logit" && k != OutputDistance {
		bad("output.kind %q must be probability, logit or %s", k, OutputDistance)
	}
	if len(m.Classes) == 0 {
		bad("classes is empty")
	}
	if err := m.DefaultThresholds.Validate(); err != nil {
		bad("default_thresholds: %v", err)
	}
	if m.Output.Features != "" && m.Variant != VariantWholeStrip {
		bad("output.features needs a whole-strip model")
	}
}

func (m *Manifest) validateFamiliarity(bad problem) {
	f := m.Familiarity
	if f == nil {
		return
	}
	if m.Output.Features == "" {
		bad("familiarity needs output.features")
	}
	if m.Output.Domain != "" && (m.Output.Domain == m.Output.Features || m.Output.Domain == m.Output.Name) {
		bad("output.domain must name an output of its own")
	}
	if !plainFileName(f.File) {
		bad("familiarity.file %q must be a file name beside the manifest", f.File)
	}
	if !validHash(f.SHA256) {
		bad("familiarity.sha256 %q is not 64 hex digits", f.SHA256)
	}
	if !(f.Limit > 0) {
		bad("familiarity.limit must be positive")
	}
}

// validHash reports 64 hex digits.
func validHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == sha256.Size
}

// plainFileName reports a file name with no folder part: the files a
// manifest names beside itself.
func plainFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// Model kinds.
const (
	KindClassifier = "classifier"
	KindAnomaly    = "anomaly"
)

// DomainCheck is the validated-domain check of the model's familiarity
// statistics, nil when it has none (or its statistics are not attached).
func (m *Manifest) DomainCheck() *DomainCheck {
	if m.familiarityStats == nil {
		return nil
	}
	return m.familiarityStats.Domain
}

// AttachFamiliarity checks the familiarity file's bytes against the
// manifest's hash and keeps the parsed statistics for NewEngine.
func (m *Manifest) AttachFamiliarity(data []byte) error {
	if m.Familiarity == nil {
		return fmt.Errorf("manifest %q names no familiarity statistics", m.Name)
	}
	if got, ok := sameHash(data, m.Familiarity.SHA256); !ok {
		return fmt.Errorf("familiarity statistics %s: hash mismatch: file has sha256 %s, manifest says %s",
			m.Familiarity.File, got[:12], shortHash(m.Familiarity.SHA256))
	}
	stats, err := ParseFamiliarityStats(data)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Familiarity.File, err)
	}
	m.familiarityStats = stats
	return nil
}

// ModelFiles locates a model's manifest and .onnx file from either path: a
// manifest (NAME.manifest.json, or any .json) or the .onnx beside which
// NAME.manifest.json lies.
func ModelFiles(path string) (manifestPath string, err error) {
	switch {
	case strings.HasSuffix(path, ".json"):
		manifestPath = path
	case strings.HasSuffix(path, ".onnx"):
		manifestPath = strings.TrimSuffix(path, ".onnx") + ManifestSuffix
	default:
		return "", fmt.Errorf("model %s: expected a .onnx file or its .manifest.json", path)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("model %s: %w", path, errors.Unwrap(err))
	}
	if _, err := os.Stat(manifestPath); err != nil {
		return "", fmt.Errorf("model %s has no manifest: %s is missing", path, manifestPath)
	}
	return manifestPath, nil
}

// LoadModelFiles reads a manifest and the .onnx it names, from either path
// ModelFiles accepts, and checks the file's hash against the manifest.
func LoadModelFiles(path string) (*Manifest, []byte, error) {
	manifestPath, err := ModelFiles(path)
	if err != nil {
		return nil, nil, err
	}
	raw, _, err := readModelPart(manifestPath, MaxManifestBytes, -1)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", manifestPath, err)
	}
	onnxPath, err := ModelPartPath(manifestPath, m.File)
	if err != nil {
		return nil, nil, err
	}
	data, digest, err := readModelPart(onnxPath, MaxModelFileBytes, -1)
	if err != nil {
		return nil, nil, fmt.Errorf("model file named by %s: %w", manifestPath, err)
	}
	if !strings.EqualFold(digest, m.SHA256) {
		return nil, nil, fmt.Errorf("%s: model hash mismatch: file has sha256 %s, manifest %q says %s", onnxPath, digest[:12], m.Name, shortHash(m.SHA256))
	}
	if m.Familiarity != nil {
		famPath, err := ModelPartPath(manifestPath, m.Familiarity.File)
		if err != nil {
			return nil, nil, err
		}
		raw, _, err := readModelPart(famPath, MaxFamiliarityBytes, -1)
		if err != nil {
			return nil, nil, fmt.Errorf("familiarity statistics named by %s: %w", manifestPath, err)
		}
		if err := m.AttachFamiliarity(raw); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", manifestPath, err)
		}
	}
	if m.Anomaly != nil {
		b := m.Anomaly.Bank
		bankPath, err := ModelPartPath(manifestPath, b.File)
		if err != nil {
			return nil, nil, err
		}
		raw, _, err := readModelPart(bankPath, MaxBankBytes, int64(b.Rows)*int64(b.Dim)*4)
		if err != nil {
			return nil, nil, fmt.Errorf("memory bank named by %s: %w", manifestPath, err)
		}
		if err := m.AttachBank(raw); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", manifestPath, err)
		}
	}
	return m, data, nil
}

// ModelPartPath is the path of a file a manifest names (name, a plain file
// name as Validate insists): beside the manifest. A symbolic link there
// that leads out of the manifest's folder is refused, so that a manifest
// can make the station read no file but its model's own.
func ModelPartPath(manifestPath, name string) (string, error) {
	if !plainFileName(name) {
		return "", fmt.Errorf("%s names %q: a model's files must lie beside its manifest", manifestPath, name)
	}
	dir := filepath.Dir(manifestPath)
	path := filepath.Join(dir, name)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return path, nil // the read says what is wrong
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("model folder %s: %w", dir, err)
	}
	if filepath.Dir(real) != realDir {
		return "", fmt.Errorf("%s is a link out of the model's folder: a model's files must lie beside its manifest", path)
	}
	return path, nil
}

// CheckHash refuses model bytes whose sha256 differs from the manifest's.
func (m *Manifest) CheckHash(data []byte) error {
	if got, ok := sameHash(data, m.SHA256); !ok {
		return fmt.Errorf("model hash mismatch: file has sha256 %s, manifest %q says %s", got[:12], m.Name, shortHash(m.SHA256))
	}
	return nil
}

// SHA256Hex is the lower-case hex sha256 of data: how manifests, records
// and the audit trail name files.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// sameHash returns data's sha256 and whether it is want (in any case).
func sameHash(data []byte, want string) (string, bool) {
	got := SHA256Hex(data)
	return got, strings.EqualFold(got, want)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Identity returns the model's name, version and hash. An anomaly model's
// hash covers its memory bank too: every model taught on the same backbone
// shares the .onnx file, and what tells them apart is the bank, so the hash
// is the sha256 of the two files' hex sha256s joined by a colon.
func (m *Manifest) Identity() verdict.ModelIdentity {
	h := strings.ToLower(m.SHA256)
	if m.Anomaly != nil {
		h = SHA256Hex([]byte(h + ":" + strings.ToLower(m.Anomaly.Bank.SHA256)))
	}
	return verdict.ModelIdentity{Name: m.Name, Version: m.Version, SHA256: h}
}

// WholeStrip reports a whole-strip model.
func (m *Manifest) WholeStrip() bool { return m.Variant == VariantWholeStrip }

// PassesNothing says whether the model's held-out figures show that it
// auto-passes nothing at its default thresholds: not one defect-free
// held-out patch scored below the pass threshold (the training pipelines'
// metrics.confusion_at_pass). Such a model sends every strip it does not
// reject to review; the window says so, and what can change it.
func (m *Manifest) PassesNothing() bool {
	c, ok := m.Provenance.Metrics["confusion_at_pass"].(map[string]any)
	if !ok {
		return false
	}
	tn, okTN := c["tn"].(float64)
	fp, okFP := c["fp"].(float64)
	return okTN && okFP && tn == 0 && fp > 0
}
