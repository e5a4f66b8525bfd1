#!/bin/sh
# The action server (`python -m actions.server`, port ACTION_PORT, default 5055, on SANIC_HOST) or, with the first
# argument `policy_engine`, the engine's CLI (`policy_engine migrate`). Settings from the environment (docs/deploy.md);
# a missing setting or a placeholder secret stops the container before anything starts.
set -eu

die() {
  echo "support-actions: $*" >&2
  exit 2
}

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (deploy/secrets.env, Secret support-secrets)"
case "$DATABASE_URL" in *CHANGE-ME*) die "DATABASE_URL still holds the placeholder password" ;; esac

if [ "${1:-}" = policy_engine ]; then
  if [ "${2:-}" = inbox ]; then  # the agent inbox: its relay to Rasa needs the real token
    relay=${HANDOFF_RELAY_TOKEN:-}
    [ "${#relay}" -ge 32 ] || die "HANDOFF_RELAY_TOKEN must be a secret of at least 32 characters"
    case "$relay" in *CHANGE-ME*) die "HANDOFF_RELAY_TOKEN is still the placeholder (deploy/make-secrets.sh)" ;; esac
  fi
  shift
  exec python -m policy_engine "$@"
fi

token=${ACTION_SERVER_TOKEN:-}
[ "${#token}" -ge 32 ] || die "ACTION_SERVER_TOKEN must be a secret of at least 32 characters"
case "$token" in *CHANGE-ME*) die "ACTION_SERVER_TOKEN is still the placeholder: generate it (deploy/make-secrets.sh)" ;; esac
[ -n "${SANIC_HOST:-}" ] || die "SANIC_HOST is not set (0.0.0.0 in a container)"

exec python -m actions.server --port "${ACTION_PORT:-5055}" "$@"
