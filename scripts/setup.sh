#!/usr/bin/env bash
# Idempotent set-up: Debian EGL/Mesa libraries (when root and missing), then a .venv with
# embodied-gym installed editable with its dev extras. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
# chromium + chromium-driver: the HTML report's page tests (tests/reports/test_reports_browser.py)
DEB_PKGS="libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libglu1-mesa libopengl0 chromium chromium-driver"

missing=""
for p in $DEB_PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: warning: missing Debian packages:$missing (not root; install them for headless rendering)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

stamp=.venv/.embodied-gym-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing embodied-gym[dev] into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e '.[dev]' 2> >(grep -v "is ignored: it is neither" >&2)
  touch "$stamp"
fi
