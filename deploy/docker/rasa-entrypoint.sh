#!/bin/sh
# Starts the Rasa server as botstack.rasa_run_argv does for `make run`: the HTTP API only with RASA_API_TOKEN, CORS only
# for the listed origins, the project's endpoints.yml and credentials.yml. Everything comes from the environment
# (docs/deploy.md lists it); a missing setting or a placeholder secret stops the container before Rasa starts.
# Extra arguments are passed to `rasa run`.
set -eu

die() {
  echo "support-rasa: $*" >&2
  exit 2
}

for name in RASA_API_TOKEN REST_CHANNEL_TOKEN ACTION_SERVER_TOKEN CHAT_SESSION_SECRET; do
  eval "value=\${$name:-}"
  [ "${#value}" -ge 32 ] || die "$name must be a secret of at least 32 characters (deploy/secrets.env, Secret support-secrets)"
  case "$value" in *CHANGE-ME*) die "$name is still the placeholder: generate it (deploy/make-secrets.sh)" ;; esac
done
for name in TRACKER_STORE_URL ACTION_ENDPOINT_URL LOCK_STORE_TYPE LOCK_STORE_HOST LOCK_STORE_PORT LOCK_STORE_DB \
  RATE_LIMIT_STORAGE CHAT_ALLOWED_ORIGINS; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || die "$name is not set"
  case "$value" in *CHANGE-ME*) die "$name still holds a placeholder" ;; esac
done
# several replicas share conversations: the lock and the rate limits must be shared too
[ "$LOCK_STORE_TYPE" = redis ] || die "LOCK_STORE_TYPE must be redis when Rasa runs as several replicas"
case "$RATE_LIMIT_STORAGE" in redis://*) ;; *) die "RATE_LIMIT_STORAGE must be redis://... (shared by the replicas)" ;; esac
case ",$CHAT_ALLOWED_ORIGINS," in *'*'*) die "CHAT_ALLOWED_ORIGINS lists origins, never *" ;; esac

# the chat page's origins, one argument each (never "*")
origins=$(printf '%s' "$CHAT_ALLOWED_ORIGINS" | tr ',' ' ')
# shellcheck disable=SC2086
exec rasa run \
  --enable-api "--auth-token=$RASA_API_TOKEN" \
  --cors $origins \
  --interface 0.0.0.0 --port "${RASA_PORT:-5005}" \
  --model "${RASA_MODEL:-/app/models}" \
  --endpoints /app/endpoints.yml --credentials /app/credentials.yml \
  "$@"
