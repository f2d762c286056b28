#!/usr/bin/env bash
# Makes the project's Python virtual environment in .venv (git-ignored) and installs into it what the
# Python parts of the repository need, never into the system site-packages. `.ci/run` calls it; a
# developer runs it once, then uses .venv/bin/python (or `source .venv/bin/activate`).
#
#   bash scripts/python-env.sh
#
# Safe to run again: the venv is reused and pip installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# Each Python package of the repository lists its own requirements; install those that exist.
for req in packages/*/requirements-dev.txt; do
  [ -f "$req" ] || continue
  echo "pip install -r $req"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
done
echo ".venv: $(.venv/bin/python --version)"
