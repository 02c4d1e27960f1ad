#!/usr/bin/env bash
# Install everything onnxtd needs to build, test and benchmark.
#
#   bash scripts/setup.sh
#
# Idempotent: installs only what is missing and prints nothing on success.
# Debian/Ubuntu only (apt). Runs as root, or as a user with sudo.
#
# Steps:
#   1. apt packages (checked one by one with dpkg -s; `apt-get update` runs
#      only when something is missing)
#   2. onnxruntime-node into tools/ort/node_modules, at the exact version in
#      tools/ort/package-lock.json. Its install script is skipped
#      (--ignore-scripts): it downloads GPU add-ons from a host outside the
#      npm registry, while the Linux x64 CPU library ships inside the package.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORT_DIR="$ROOT/tools/ort"
LOG="$(mktemp "${TMPDIR:-/tmp}/onnxtd-setup.XXXXXX")"
trap 'rm -f "$LOG"' EXIT

APT_PACKAGES=(
  cmake gcc g++ make pkg-config
  protobuf-c-compiler libprotobuf-c-dev
  liblapacke-dev libopenblas-dev
  libonnx-testdata python3-onnx python3-numpy
  python3-setuptools python3-pip python3-torch
  clang
  espeak-ng python3-pil fonts-dejavu-core   # speech and text for vad_bound.sh, bench/heldout.sh
)

die() {
  echo "setup.sh: error: $*" >&2
  if [ -s "$LOG" ]; then
    echo "---- last lines of output ----" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

# ---------------------------------------------------------------- apt
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "missing packages (${missing[*]}) and apt-get is not available"
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "missing packages (${missing[*]}); run as root or install sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 ||
    die "apt-get update failed"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 ||
    die "apt-get install failed for: ${missing[*]}"
fi

# ---------------------------------------------------------------- node + npm
ort_loads() {
  (cd "$ORT_DIR" && node -e '
    const ort = require("onnxruntime-node");
    if (typeof ort.InferenceSession !== "function") process.exit(1);
  ') >/dev/null 2>&1
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "node/npm not found; install Node.js >= 18 with npm"
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 ||
    die "apt-get update failed"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends nodejs npm >>"$LOG" 2>&1 ||
    die "could not install nodejs/npm with apt-get"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 16 ] 2>/dev/null ||
  die "node $(node --version 2>/dev/null) is too old; onnxruntime-node needs >= 16"

if ! ort_loads; then
  [ -f "$ORT_DIR/package-lock.json" ] || die "missing $ORT_DIR/package-lock.json"
  (cd "$ORT_DIR" && npm ci --ignore-scripts --no-audit --no-fund \
      --loglevel=error) >>"$LOG" 2>&1 ||
    die "npm ci in tools/ort failed (onnxruntime-node)"
  ort_loads || {
    (cd "$ORT_DIR" && node -e 'require("onnxruntime-node")') >>"$LOG" 2>&1
    die "onnxruntime-node installed but does not load (unsupported platform? \
only the prebuilt CPU library inside the npm package is used)"
  }
fi

exit 0
