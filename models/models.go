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
	"steelinspect/verdict"
)

// DefaultName is the file name stem of the bundled model (6.0.0): a
// MobileNetV2 trained on synthetic strips only (3.1.0, the synthetic-only
// EfficientNet-B0, distilled into it; INT8, one grey input channel), with
// its window features as a second output for familiarity, and a
// validated-domain check in the same graph that reads the model's own
// frozen ImageNet block 6: the statistics of its channels over the strip
// and a linear discriminator fitted against real steel of three mills
// (training/domain_check.py --shared-trunk). The model decides the
// synthetic strips it was validated on and sends real steel, which it was
// never validated on, to a person with that reason. The previous defaults
// are in the git history (5.0.0, EfficientNet-B0: commit 4a70d98) or in
// this folder, not embedded (4.0.0, MobileNetV2 fine-tuned on real and
// synthetic steel, INT8, and its fp32 model); pass them with --model.
const DefaultName = "steel-mnv2-synth-int8"

//go:embed steel-mnv2-synth-int8.onnx
var defaultONNX []byte

//go:embed steel-mnv2-synth-int8.manifest.json
var defaultManifest []byte

//go:embed steel-mnv2-synth-int8.familiarity.json
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

// AnomalyBackboneName is the file name stem of the backbone that taught
// (anomaly) models are built on: ImageNet MobileNetV2 cut after block 13,
// with the nearest-neighbour search in the same graph (exported once by
// training/export_anomaly_backbone.py; no training). `steelinspect teach`
// copies it beside every model it makes, so a taught model is whole by
// itself.
const AnomalyBackboneName = "anomaly-mnv2-backbone"

// anomalyBackboneSHA256 is the sha256 of the committed backbone.
const anomalyBackboneSHA256 = "7d6a121e812e80a70b1610bed14504a098e2036b148c649fdaf8dd0bb52cb849"

//go:embed anomaly-mnv2-backbone.onnx
var anomalyBackboneONNX []byte

// AnomalyBackbone returns the backbone's ONNX bytes and a manifest for a
// model built on it: everything but the name, the memory bank, the score
// mapping and the provenance, which teaching fills in.
func AnomalyBackbone() (*inference.Manifest, []byte) {
	m := &inference.Manifest{
		Name:    AnomalyBackboneName,
		Version: "1.0.0",
		Kind:    inference.KindAnomaly,
		File:    AnomalyBackboneName + ".onnx",
		SHA256:  anomalyBackboneSHA256,
		Variant: inference.VariantWholeStrip,
		Input: inference.InputSpec{Name: "input", Layout: "NCHW", Channels: 3, PatchSize: 256, Stride: 128,
			Cell: AnomalyBackboneCell},
		Preprocessing: inference.Preprocessing{Scale: 1.0 / 255, Mean: []float64{0.485, 0.456, 0.406},
			Std: []float64{0.229, 0.224, 0.225}},
		Output:            inference.OutputSpec{Name: "distance", Kind: inference.OutputDistance, Features: "features"},
		Classes:           []string{"anomaly"},
		DefaultThresholds: verdict.DefaultThresholds,
		Provenance: inference.Provenance{
			Description: "ImageNet MobileNetV2 (../shared/pretrained, converted from Google's Coral TFLite " +
				"model, Apache 2.0) cut after block 13: blocks 6 and 13 averaged over 3×3 cells and " +
				"concatenated, one 128-value feature per 16×16-pixel cell; nearest-neighbour distance to " +
				"the memory bank in the same graph.",
			Training: "none: taught on good strips by `steelinspect teach`",
		},
	}
	return m, anomalyBackboneONNX
}

// AnomalyBackboneCell is the backbone's feature cell in pixels, and
// AnomalyBackboneDim the length of a cell's feature.
const (
	AnomalyBackboneCell = 16
	AnomalyBackboneDim  = 128
)
