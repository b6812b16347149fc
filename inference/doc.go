// Package inference turns strip images into traffic-light decisions.
//
// It owns everything between an image file and a Result: the model manifest
// and its checks, the ONNX Runtime session, decoding with a size guard,
// tiling into overlapping patches that cover every pixel, preprocessing into
// one reused input tensor, and the pure Decide function that maps patch
// probabilities and two thresholds to PASS, REVIEW or REJECT.
//
// The package knows nothing of windows or widgets: the CLI, the desktop UI
// and the HTTP server all call it the same way.
package inference
