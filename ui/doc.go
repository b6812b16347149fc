// Package ui is the Steel Inspector desktop window, built with Fyne.
//
// An Inspector shows one strip at a time with its patch heatmap, the
// traffic-light result card, the threshold sliders and the model in use.
// It depends only on the small Analyzer interface (an *inference.Engine
// satisfies it), so tests drive it headless with fyne.io/fyne/v2/test and
// the tiny test models.
//
// The window is handed the station the command line opened
// (Options.Station, package station): every strip is concluded through
// it, the Watch folder runs on it, the pair the window decides with is
// fixed on it, and the line connections set in the window run as its
// outputs. As a station with an audit trail the window also runs the
// workflow around it: folders and many files queue as a batch with progress, rate,
// time left and Cancel; every strip is recorded in the audit trail before
// it is shown as done; the operator on shift confirms REVIEW strips (P, R,
// N) or overrides automatic ones with a reason; a history window filters
// and exports the trail; thresholds and model sit behind a supervisor PIN
// (bcrypt hash in Preferences) and every change is recorded; a hot folder
// can be watched; and per-strip report PNGs (package report) can be saved.
// Processed strips keep only probabilities, patch rectangles and file facts,
// never pixels: a strip is decoded again when shown.
//
// A supervisor can teach the station a new line without labels ("Teach
// good steel…", package teach through Options.Teach): teaching runs in the
// background with progress, time left and Cancel, its report says in
// plain words how the held-out good strips fare, and Save and use saves
// the model into Options.ModelsDir and switches to it like Open model…
// does, recorded. After any switch the previous model stays one click
// away ("Back to …"). For a model with a cell map (a taught one) the
// heatmap can show the fine map, one colour per 16-pixel cell, instead of
// the patch tint; the patches still decide the strip.
//
// Where things are. Run (run.go) builds an Inspector (window.go), which
// puts the window's parts together and gives each part and screen only
// what it uses, through a small interface it implements:
//
//   - window.go: the Inspector, its parts and their layout, read first;
//     inspector.go the window's work on strips (open, inspect, show),
//     batch.go the queue of opened strips; widgets.go the toolbar and
//     status bar, menu.go the menus and keys, layout.go and fold.go the
//     columns;
//   - worker.go: the worker, the one goroutine that owns the model and
//     scores and records every strip (inspect → decide → record, through
//     package station), for every screen below;
//   - processed.go: processedList, the Processed list: the strips, the
//     All / Needs review filter, the count and the review queue
//     (processedHost); shift.go the shift's figures and the shift
//     restored from the audit trail;
//   - cards.go: resultCard, the result card: the decision, its advice,
//     Re-inspect, the metrics and the zone breakdown (cardHost);
//   - strippanel.go: stripPanel, the strip view: the strip image and its
//     caption, the heatmap controls, the patch table (table.go) and the
//     1:1 patch view (zoom.go), with their order, hover and zoom
//     (stripHost); stripview.go the strip widget, overlay.go the heatmap;
//   - review.go: reviewPanel, the operator's P / R / Override… / undo
//     on the card (reviewHost);
//   - watch.go: watchScreen, the hot folder on the window's station
//     (watchHost); line.go the line connection set in the window, run as
//     the station's outputs;
//   - model.go: modelPanel (modelHost) and model switches, teach.go Teach good steel…
//     and learn.go Learn from decisions… (one flow, teachView);
//   - settings.go: settingsPanel, the threshold sliders, the lock row and
//     the decision-logic table with the pair in force and the lock
//     (settingsHost); thresholds.go the pair's preferences and trail,
//     lock.go the supervisor's sign-in;
//   - history.go: historyView, and historystrip.go the selected row's
//     strip and Open in the station (historyHost); calibrate.go: calibrateView
//     (calibrateHost) with its histogram widget in histogram.go;
//   - keys.go: Enter and Esc in dialogs; picker.go the file and folder
//     pickers; reports.go: report PNGs; screenshot.go: --screenshot.
//
// Threading follows Fyne 2.6+: widgets are touched only on the UI
// goroutine. Decoding and inference run on one background worker that
// owns the Analyzer and hands results back with fyne.Do. Moving a
// threshold slider never infers again: it re-runs verdict.Decide on the
// probabilities already held.
package ui
