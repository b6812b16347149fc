#!/usr/bin/env bash
# Fetches the ONNX Runtime shared library that matches the pinned
# github.com/yalue/onnxruntime_go (v1.27.0 speaks the C API of ORT 1.24.1).
# The library comes from the npm registry package onnxruntime-node; npm checks
# the tarball against the registry's integrity hash, and we check the extracted
# library against the hash recorded below.
set -euo pipefail

ORT_VERSION="${ORT_VERSION:-1.24.1}"
ORT_SO_SHA256="${ORT_SO_SHA256:-53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/onnxruntime"
lib="$dest/libonnxruntime.so.1"

check() { [ -f "$lib" ] && [ "$(sha256sum "$lib" | cut -d' ' -f1)" = "$ORT_SO_SHA256" ]; }

if check; then
  exit 0
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "fetch-onnxruntime: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "fetch-onnxruntime: npm is needed (apt-get install npm)" >&2; exit 1; }

mkdir -p "$root/.cache/ort" "$dest"
tgz="$root/.cache/ort/onnxruntime-node-$ORT_VERSION.tgz"
if [ ! -f "$tgz" ]; then
  echo "fetching onnxruntime-node@$ORT_VERSION from the npm registry" >&2
  (cd "$root/.cache/ort" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
install -m 0644 "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$lib"
echo "$ORT_VERSION" > "$dest/VERSION"
if [ "$arch" = x64 ] && ! check; then
  echo "fetch-onnxruntime: $lib does not have the expected sha256 $ORT_SO_SHA256" >&2
  rm -f "$lib"
  exit 1
fi
echo "ONNX Runtime $ORT_VERSION ready: $lib" >&2
