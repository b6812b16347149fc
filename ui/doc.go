// Package ui is the Steel Inspector desktop window, built with Fyne.
//
// An Inspector shows one strip at a time with its patch heatmap, the
// traffic-light result card, the threshold sliders and the model in use.
// It depends only on the small Analyzer interface (an *inference.Engine
// satisfies it), so tests drive it headless with fyne.io/fyne/v2/test and
// the tiny test models.
//
// As a station (Options.Audit set) the window also runs the workflow
// around it: folders and many files queue as a batch with progress, rate,
// time left and Cancel; every strip is recorded in the audit trail before
// it is shown as done; the operator on shift confirms REVIEW strips (P, R,
// N) or overrides automatic ones with a reason; a history window filters
// and exports the trail; thresholds and model sit behind a supervisor PIN
// (bcrypt hash in Preferences) and every change is recorded; a hot folder
// can be watched; and per-strip report PNGs (package report) can be saved.
// Processed strips keep only probabilities, patch rectangles and file facts,
// never pixels: a strip is decoded again when shown.
//
// Threading follows Fyne 2.6+: widgets are touched only on the UI
// goroutine. Decoding and inference run on one background worker that
// owns the Analyzer and hands results back with fyne.Do. Moving a
// threshold slider never infers again: it re-runs inference.Decide on the
// probabilities already held.
package ui
