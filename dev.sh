#!/usr/bin/env bash
# newsflow's set-up and entry point for a fresh machine (Python 3.11, nothing else needed).
#   ./dev.sh demo    set up .venv, then run the demo (embedded PostgreSQL unless DATABASE_URL is set)
#   ./dev.sh test    set up .venv, then run the test suite
#   ./dev.sh setup   only set up .venv (and chromium, for the brief's browser test, where apt works)
# Every package comes pinned from constraints.txt, so Airflow does not float.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "newsflow needs Python 3.11, found " + sys.version' 
    "$PYTHON" -m venv .venv
  fi
  stamp=.venv/.newsflow-installed
  want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade "pip==26.3"
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[airflow,dev,parquet]"
    echo "$want" > "$stamp"
  fi
  # The events stage's place names, built once into a cache file here (~10 s) rather than by the first
  # backfill or Airflow task that needs them; a no-op when the file is there.
  .venv/bin/python -m pipeline.events.build_gazetteer \
    || echo "dev.sh: the gazetteer cache was not built here; the first run that reads events will build it" >&2
}

# The daily brief's test opens it in a real headless browser: Debian's chromium, installed here when
# it is missing and apt-get is usable (root). Where it is not, setup goes on and that test skips.
browser() {
  command -v chromium >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core >/dev/null; } \
      || echo "dev.sh: apt-get could not install chromium; the brief's browser test will skip" >&2
  else
    echo "dev.sh: no chromium and no usable apt-get (not root?); the brief's browser test will skip" >&2
  fi
}

case "${1:-}" in
  setup) setup; browser ;;
  demo) setup; shift; exec .venv/bin/newsflow demo "$@" ;;
  test) setup; browser; shift; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: ./dev.sh demo|test|setup" >&2; exit 2 ;;
esac
