#!/usr/bin/env bash
# Installs the Debian packages that are missing, for one purpose:
#   install-deps.sh run    a C toolchain and OpenGL/X11 headers for Fyne's cgo
#                          build, libjpeg-turbo (TurboJPEG) for the strip
#                          decoder, npm to fetch ONNX Runtime, and
#                          alsa-utils (aplay) for the optional arrival sound
#   install-deps.sh test   the same, plus Xvfb for the window smoke test,
#                          Mosquitto and PostgreSQL for the MQTT and central
#                          database tests (started by the tests on free ports,
#                          never as services) and Debian's
#                          PyTorch and ONNX for the training tests
set -euo pipefail

packages=(gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev libturbojpeg0-dev npm alsa-utils)
case "${1:-test}" in
  run) ;;
  test) packages+=(xvfb xauth mosquitto postgresql haproxy python3 python3-numpy python3-pil python3-scipy python3-onnx python3-torch python3-torchvision) ;;
  *) echo "usage: install-deps.sh run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  # npm may come with a Node.js installed outside apt.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v go >/dev/null || { echo "install-deps: Go 1.24 or newer is needed on PATH (https://go.dev/dl)" >&2; exit 1; }
