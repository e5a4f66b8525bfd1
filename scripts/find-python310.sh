#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only).
# Order: $PYTHON310, python3.10 on PATH that really is 3.10, pyenv's 3.10.x, Debian's python3.10.
set -euo pipefail
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
for cand in "${PYTHON310:-}" "$(command -v python3.10 || true)" \
            $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r) \
            /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -n "$cand" ] && [ -x "$cand" ] && is310 "$cand" && { echo "$cand"; exit 0; }
done
echo "error: Python 3.10 not found (set PYTHON310=/path/to/python3.10)" >&2
exit 1
