#!/usr/bin/env bash
# `make web`: install the pinned web chat widget (rasa-webchat 1.0.1, web/package.json + package-lock.json) from
# npm and copy its standalone bundle to web/static/vendor/, so the chat page works offline afterwards.
# Does nothing when the bundle is already there and newer than the lock file. Both outputs are gitignored.
set -euo pipefail
cd "$(dirname "$0")/../web"
bundle=static/vendor/rasa-webchat.js
if [[ -f "$bundle" && "$bundle" -nt package.json && ( ! -f package-lock.json || "$bundle" -nt package-lock.json ) ]]; then
  echo "web: $bundle is up to date"
  exit 0
fi
command -v npm >/dev/null || { echo "web: npm is missing: run scripts/install-system-deps.sh" >&2; exit 1; }
if [[ -f package-lock.json ]]; then
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
else
  npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
fi
mkdir -p static/vendor
cp node_modules/rasa-webchat/lib/index.js "$bundle"
echo "web: $bundle ($(wc -c < "$bundle") bytes) from rasa-webchat $(node -p 'require("./node_modules/rasa-webchat/package.json").version')"
