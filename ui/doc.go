// Package ui is the Steel Inspector desktop window, built with Fyne.
//
// An Inspector shows one strip at a time with its patch heatmap, the
// traffic-light result card, the threshold sliders and the model in use.
// It depends only on the small Analyzer interface (an *inference.Engine
// satisfies it), so tests drive it headless with fyne.io/fyne/v2/test and
// the tiny test models.
//
// Threading follows Fyne 2.6+: widgets are touched only on the UI
// goroutine. Decoding and inference run on one background worker that
// owns the Analyzer and hands results back with fyne.Do. Moving a
// threshold slider never infers again: it re-runs inference.Decide on the
// probabilities already held.
package ui
