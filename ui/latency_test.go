package ui

import (
	"path/filepath"
	"testing"

	"steelinspect/inference"
	"steelinspect/models"
)

// BenchmarkDropToDisplay measures what an inspector waits for: from a strip
// dropped on the window (the drop handler's code path) to its result on
// screen (card, overlay, table updated), with the bundled model.
//
//	go test ./ui -run '^$' -bench DropToDisplay -benchtime 20x
func BenchmarkDropToDisplay(b *testing.B) {
	e, err := models.OpenDefault(inference.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	h := newHarness(b, Options{Model: e})
	strip := filepath.Join("..", "assets", "demo", "pitting.jpg")
	h.openPaths(strip) // warm-up: first run sizes ONNX Runtime's buffers
	for b.Loop() {
		h.openPaths(strip)
	}
	if got := h.ins.card.decision.Text; got != "REJECT" {
		b.Fatalf("pitting strip shows %q, want REJECT", got)
	}
}
