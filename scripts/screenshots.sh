#!/usr/bin/env bash
# Regenerates the README's screenshots: the real window under Xvfb, one
# strip each for PASS, REVIEW and REJECT with the bundled model, default
# thresholds and fresh preferences. Needs xvfb-run (make deps-test).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
shoot() {
  XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" xvfb-run -a -s "-screen 0 1400x900x24" \
    bin/steelinspect --no-audit --screenshot "docs/$1.png" "$2" 2>/dev/null
  echo "docs/$1.png ← $2"
}
# a clean strip auto-passed, a pitted one auto-rejected; a photograph shows
# the unfamiliar-strip reason
shoot pass assets/demo/clean-2.jpg
shoot reject assets/demo/pitting.jpg
shoot unfamiliar "$(go env GOROOT)/src/image/png/testdata/benchGray.png"
# the heatmap on the probability colour scale (Heatmap → Colours)
prefs="$tmp/config/fyne/com.steelinspector.app/preferences.json"
mkdir -p "$(dirname "$prefs")" && echo '{"overlay.colours":"Probability"}' > "$prefs"
shoot probability assets/demo/scratches.jpg
rm -f "$prefs"
# teaching good steel: the report dialog, and a defective strip under a
# taught model with the fine map on (teaches on testdata/good-base first)
SHOTS_DIR="$PWD/docs" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" \
  GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" xvfb-run -a -s "-screen 0 1400x900x24" \
  go test -tags shots -count=1 -run TestTeachShots ./ui/ >/dev/null
echo "docs/teach.png, docs/finemap.png ← ui/teach_shots_test.go"
# learning from the operators' decisions: the dialog with the trail's
# counts and the report (the trail holds testdata/heldout, decided)
SHOTS_DIR="$PWD/docs" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" \
  GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" xvfb-run -a -s "-screen 0 1400x900x24" \
  go test -tags shots -count=1 -run TestLearnShots ./ui/ >/dev/null
echo "docs/learn-ask.png, docs/learn.png ← ui/learn_shots_test.go"
# run mode after a shift's first strips, and a frame without steel
SHOTS_DIR="$PWD/docs" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" \
  GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" xvfb-run -a -s "-screen 0 1400x900x24" \
  go test -tags shots -count=1 -run TestRunModeShots ./ui/ >/dev/null
echo "docs/runmode.png, docs/nosteel.png ← ui/runmode_shots_test.go"
# every view (setup, sign-in, History, Calibrate, run mode) at 1280×720
# and 1920×1080
mkdir -p docs/views
SHOTS_DIR="$PWD/docs/views" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" \
  GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" xvfb-run -a -s "-screen 0 2000x1200x24" \
  go test -tags shots -count=1 -run TestViewShots ./ui/ >/dev/null
echo "docs/views/*.png ← ui/views_shots_test.go"
# the whole screen at two station resolutions (needs x11-apps and netpbm
# for xwd and its converters)
screen() {
  local res="$1" file="$2" d=":$((60 + RANDOM % 30))"
  Xvfb "$d" -screen 0 "${res}x24" >/dev/null 2>&1 & local xpid=$!
  sleep 1
  DISPLAY="$d" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp" bin/steelinspect --no-audit "$file" >/dev/null 2>&1 & local apid=$!
  sleep 10
  DISPLAY="$d" xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng > "docs/station-$res.png"
  kill "$apid" "$xpid" 2>/dev/null || true
  echo "docs/station-$res.png ← $file"
}
screen 1280x720 assets/demo/scratches.jpg
screen 1920x1080 assets/demo/scratches.jpg
