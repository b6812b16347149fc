// Package models holds the bundled default model, embedded in the binary so
// the application works offline out of the box.
//
// The model, its manifest and its familiarity statistics are produced by
// the training pipeline in training/ (training/finetune.py, see
// training/README.md); the manifest records their hashes, the input layout,
// preprocessing, default thresholds, the familiarity limit and what the
// model was trained on and measured to do, on real and synthetic strips.
package models

import (
	_ "embed"

	"steelinspect/inference"
)

// DefaultName is the file name stem of the bundled model: MobileNetV2 from
// ImageNet weights, fine-tuned on real Severstal strips, NEU-DET defect
// images and synthetic strips, in its whole-strip form (the backbone runs
// once over a 1600×256 strip) and quantised to INT8. Its second output, the
// window features, tells the engine how familiar a strip is. Its fp32 model
// and the previous default (the synthetic-only EfficientNet-B0, INT8) stay
// in this folder, not embedded; pass them with --model.
const DefaultName = "steel-mnv2-real-int8"

//go:embed steel-mnv2-real-int8.onnx
var defaultONNX []byte

//go:embed steel-mnv2-real-int8.manifest.json
var defaultManifest []byte

//go:embed steel-mnv2-real-int8.familiarity.json
var defaultFamiliarity []byte

// DefaultSource describes where the bundled model is loaded from.
const DefaultSource = "bundled: models/" + DefaultName + ".onnx"

// Default returns the bundled model's manifest (its familiarity statistics
// attached) and ONNX bytes.
func Default() (*inference.Manifest, []byte, error) {
	m, err := inference.ParseManifest(defaultManifest)
	if err != nil {
		return nil, nil, err
	}
	if err := m.AttachFamiliarity(defaultFamiliarity); err != nil {
		return nil, nil, err
	}
	return m, defaultONNX, nil
}

// OpenDefault opens an engine on the bundled model.
func OpenDefault(opts inference.EngineOptions) (*inference.Engine, error) {
	m, data, err := Default()
	if err != nil {
		return nil, err
	}
	return inference.NewEngine(m, data, DefaultSource, opts)
}

// Open opens the model at path, or the bundled model when path is empty.
func Open(path string, opts inference.EngineOptions) (*inference.Engine, error) {
	if path == "" {
		return OpenDefault(opts)
	}
	return inference.OpenModel(path, opts)
}
