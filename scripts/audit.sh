#!/usr/bin/env bash
# Dependency audit: pip-audit over every package installed in the project's environment.
#
#   scripts/audit.sh    # exit 0: no known vulnerability, or no service reachable (one line)
#                       # non-zero: vulnerabilities found (pip-audit's report), or the audit
#                       # could not be completed (a package the service does not know:
#                       # --strict, so a half-done audit never passes)
#
# pip-audit needs a vulnerability service: PyPI's per-version JSON API
# (https://pypi.org/pypi/<name>/<version>/json) or OSV (https://api.osv.dev). When
# neither answers (some networks only reach the package index), the audit is skipped
# with ONE line saying so and the script exits 0: a skip is reported, never silent.
#
# pip-audit is pinned and runs from its own virtualenv ($SHEQUN_AUDIT_VENV, default
# .venv-audit), so its own dependencies do not end up in, or audited as part of, the
# project. The project environment ($PYTHON, default .venv/bin/python) is read with
# `pip freeze` and audited as pinned requirements without resolving anything again.
# SHEQUN_AUDIT_SERVICE=pypi|osv skips the reachability probe (to see pip-audit's
# own error).
set -euo pipefail

PIP_AUDIT_VERSION=2.10.1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
TOOLS="${SHEQUN_AUDIT_VENV:-$ROOT/.venv-audit}"

# HTTP status of one request (000 when nothing answered), with the project's Python.
status() {
    "$PY" - "$@" <<'EOF'
import sys
import urllib.error
import urllib.request

url, body = sys.argv[1], (sys.argv[2].encode() if len(sys.argv) > 2 else None)
req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as resp:
        print(resp.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

service="${SHEQUN_AUDIT_SERVICE:-}"
if [[ -z "$service" ]]; then
    # The exact endpoints pip-audit uses, for a package and version that exist.
    pypi=$(status "https://pypi.org/pypi/pip/24.0/json")
    osv=$(status "https://api.osv.dev/v1/query" \
        '{"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.0"}')
    if [[ "$pypi" == "200" ]]; then
        service=pypi
    elif [[ "$osv" == "200" ]]; then
        service=osv
    else
        why() { [[ "$1" == "000" ]] && echo "unreachable" || echo "HTTP $1"; }
        echo "dependency audit SKIPPED: no vulnerability service reachable from here" \
            "(PyPI JSON API: $(why "$pypi"); OSV api.osv.dev: $(why "$osv"))"
        exit 0
    fi
fi

if [[ "$("$TOOLS/bin/pip-audit" --version 2>/dev/null || true)" != "pip-audit $PIP_AUDIT_VERSION" ]]; then
    "$PY" -m venv --clear "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"
fi

reqs="$(mktemp)"
trap 'rm -f "$reqs"' EXIT
# Everything installed, pinned; the project itself (editable, not on PyPI) left out.
"$PY" -m pip freeze --all --exclude-editable --disable-pip-version-check \
    | grep -viE '^(shequn([=@ ]|$)|-e )' >"$reqs"

echo "dependency audit: $(wc -l <"$reqs") packages of $PY against $service (pip-audit $PIP_AUDIT_VERSION)"
exec "$TOOLS/bin/pip-audit" --requirement "$reqs" --no-deps --disable-pip \
    --vulnerability-service "$service" --progress-spinner off --strict
