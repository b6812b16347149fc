// Package models holds the bundled default model, embedded in the binary so
// the application works offline out of the box.
//
// The model and its manifest are produced by the training pipeline in
// training/ (see training/README.md); the manifest records its hash, input
// layout, preprocessing, default thresholds and held-out metrics.
package models

import (
	_ "embed"

	"steelinspect/inference"
)

// DefaultName is the file name stem of the bundled model: EfficientNet-B0
// with ReLU6 activations in its whole-strip form (the backbone runs once
// over a 1600×256 strip), quantised to INT8. On the held-out set it makes
// 58 of 60 strip decisions of its fp32 model, steel-effnetb0-relu6-strip
// (the other two are defect-free strips it passes where fp32 asks for
// review), in about half the time. That model and the fp32 per-patch reference
// steel-effnetb0 stay in this folder, not embedded; pass them with --model.
const DefaultName = "steel-effnetb0-relu6-strip-int8"

//go:embed steel-effnetb0-relu6-strip-int8.onnx
var defaultONNX []byte

//go:embed steel-effnetb0-relu6-strip-int8.manifest.json
var defaultManifest []byte

// DefaultSource describes where the bundled model is loaded from.
const DefaultSource = "bundled: models/" + DefaultName + ".onnx"

// Default returns the bundled model's manifest and ONNX bytes.
func Default() (*inference.Manifest, []byte, error) {
	m, err := inference.ParseManifest(defaultManifest)
	if err != nil {
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
