#!/usr/bin/env bash
# `make shell`: chat with the bot in the terminal (rasa shell), with the action server started in the background
# (or the one `make run` already runs on ACTION_PORT). Trains first if the model is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv-engine/bin/python scripts/run.py shell "$@"
