// Package inference turns strip images into traffic-light decisions.
//
// It owns everything between an image file and a Result: the model manifest
// and its checks, the ONNX Runtime session, decoding with a size guard,
// tiling into overlapping patches that cover every pixel, preprocessing into
// one reused input tensor, and the patch probabilities (with the image's
// cautions) that package verdict decides on: PASS, REVIEW or REJECT. The
// verdict vocabulary is reachable from here too (Decide, Record, ...).
//
// The package knows nothing of windows or widgets: the CLI, the desktop UI
// and the HTTP server all call it the same way.
package inference
