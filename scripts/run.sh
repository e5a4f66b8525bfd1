#!/usr/bin/env bash
# `make run`: train if needed, migrate + seed the database, start the action server, the Rasa server and the web
# chat page; Ctrl-C stops them all. The supervisor is scripts/run.py (see its docstring for the variables).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv-engine/bin/python scripts/run.py serve "$@"
