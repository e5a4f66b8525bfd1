#!/usr/bin/env bash
# Train the Rasa model only when it is missing or stale.
#
# The inputs of a model are config.yml, domain.yml (or domain/), data/ and nlu_components/ (custom components). Their hash is written beside the model
# after a successful training (models/.inputs.sha256: "<hash> <model file>"); the model is fresh when that file
# names the newest model in models/ and the hash still matches.
#
#   scripts/train.sh            train if missing or stale, else say so and exit 0
#   scripts/train.sh --check    exit 0 if fresh, 1 if missing or stale (trains nothing)
#   scripts/train.sh --force    train unconditionally
# Environment: RASA (default .venv-rasa/bin/rasa), MODELS_DIR (default models), KEEP_MODELS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

RASA="${RASA:-.venv-rasa/bin/rasa}"
MODELS_DIR="${MODELS_DIR:-models}"
KEEP_MODELS="${KEEP_MODELS:-3}"
STAMP="$MODELS_DIR/.inputs.sha256"
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1

mode="auto"
case "${1:-}" in
  --check) mode="check" ;;
  --force) mode="force" ;;
  "") ;;
  *) echo "usage: $0 [--check|--force]" >&2; exit 2 ;;
esac

inputs_hash() {
  # content and path of every input file, in a stable order
  local inputs=(config.yml)
  [[ -e domain.yml ]] && inputs+=(domain.yml)
  [[ -d domain ]] && inputs+=(domain)
  [[ -d data ]] && inputs+=(data)
  [[ -d nlu_components ]] && inputs+=(nlu_components)  # custom NLU components change the model too
  find "${inputs[@]}" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.md' -o -name '*.json' -o -name '*.py' \) \
    -not -path '*/__pycache__/*' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

newest_model() {
  ls -1t "$MODELS_DIR"/*.tar.gz 2>/dev/null | head -n1 || true
}

is_fresh() {
  local model; model="$(newest_model)"
  [[ -n "$model" && -f "$STAMP" ]] || return 1
  local want; want="$(inputs_hash)"
  read -r have_hash have_model < "$STAMP" || return 1
  [[ "$have_hash" == "$want" && "$have_model" == "$(basename "$model")" ]]
}

if [[ ! -f config.yml ]]; then
  echo "train: config.yml is missing: nothing to train" >&2
  exit 1
fi

if [[ "$mode" == "check" ]]; then
  if is_fresh; then echo "train: model is up to date: $(newest_model)"; exit 0; fi
  echo "train: model is missing or stale"; exit 1
fi

if [[ "$mode" == "auto" ]] && is_fresh; then
  echo "train: model is up to date: $(newest_model)"
  exit 0
fi

hash_before="$(inputs_hash)"
mkdir -p "$MODELS_DIR"
echo "train: training a new model (inputs $hash_before)"
start=$(date +%s)
rasa_flags=()
[[ "$mode" == "force" ]] && rasa_flags+=(--force)
"$RASA" train --out "$MODELS_DIR" "${rasa_flags[@]}"
model="$(newest_model)"
if [[ -z "$model" ]]; then echo "train: rasa train produced no model" >&2; exit 1; fi
echo "$hash_before $(basename "$model")" > "$STAMP"
echo "train: $model in $(( $(date +%s) - start )) s"

# keep the newest few models only
ls -1t "$MODELS_DIR"/*.tar.gz | tail -n +"$((KEEP_MODELS + 1))" | while read -r old; do rm -f -- "$old"; done
