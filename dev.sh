#!/usr/bin/env bash
# Developer entry point. `./dev.sh run` sets up .venv and starts the service; `./dev.sh test` sets up
# .venv and the test services (PostgreSQL, Chromium from Debian packages when run as root) and runs
# every test. Both install the 'pdf' extra (WeasyPrint) and Debian's Pango, for `report --pdf`.
# Other verbs: setup, bench, train.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  # Installs Debian packages that are missing; no-op where they are present.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

setup() {
  if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "dev.sh: needs Python >= 3.11 as '$PY' (set PYTHON=...)" >&2; exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && rm -rf "$VENV" && "$PY" -m venv "$VENV"; }
  fi
  local extras="test,pdf"
  local stamp="$VENV/.installed-$( (cat pyproject.toml; echo "$extras") | cksum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[$extras]"
    rm -f "$VENV"/.installed-*; touch "$stamp"
  fi
}

case "${1:-}" in
  setup) setup ;;
  run)
    setup
    shift
    apt_install libpango-1.0-0 libpangoft2-1.0-0 || echo "dev.sh: could not install Pango; 'report --pdf' will not work" >&2
    exec "$VENV/bin/bhxh-monitor" serve "$@" ;;
  test)
    setup
    shift
    apt_install postgresql chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 || echo "dev.sh: could not install PostgreSQL/Chromium/Pango; those tests will be skipped" >&2
    exec scripts/with-test-services.sh "$VENV/bin/python" -m pytest "$@" ;;
  bench)
    setup
    shift
    exec "$VENV/bin/python" -m benchmarks "$@" ;;
  train)
    setup
    shift
    exec "$VENV/bin/bhxh-monitor" train "$@" ;;
  *)
    echo "usage: ./dev.sh run|test|setup|bench|train [args...]" >&2; exit 64 ;;
esac
