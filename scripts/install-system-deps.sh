#!/usr/bin/env bash
# System packages the project needs beyond Python 3.10: Chromium + chromedriver (browser test), PostgreSQL and
# Redis (optional stores, tested), Node.js + npm (the web chat widget), nginx (the load balancer of the replica test,
# tests/replica; deploy/nginx). Idempotent: installs only what is missing.
# Needs root (CI and the dev machines run as root); uses sudo otherwise. With package names as arguments, only those
# (make run: redis-server and nginx, for its Rasa processes behind nginx, botstack/balancer.py).
set -euo pipefail

need=()
want=("$@")  # e.g. `install-system-deps.sh redis-server nginx` (make run): only these; none named: all
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
wanted() {
  [[ ${#want[@]} -eq 0 ]] && return 0
  local w
  for w in "${want[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}

! wanted chromium || { have_cmd chromium || have_pkg chromium; } || need+=(chromium)
! wanted chromium-driver || { have_cmd chromedriver || have_pkg chromium-driver; } || need+=(chromium-driver)
! wanted postgresql || { have_pkg postgresql || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; } || need+=(postgresql)
! wanted redis-server || { have_cmd redis-server || have_pkg redis-server; } || need+=(redis-server)
! wanted nginx || { have_cmd nginx || [[ -x /usr/sbin/nginx ]]; } || need+=(nginx)
! wanted nodejs || have_cmd node || need+=(nodejs)
! wanted npm || have_cmd npm || need+=(npm)

if [[ ${#need[@]} -eq 0 ]]; then
  if [[ ${#want[@]} -eq 0 ]]; then
    echo "system-deps: all present (chromium, chromium-driver, postgresql, redis-server, nginx, nodejs, npm)"
  else
    echo "system-deps: all present (${want[*]})"
  fi
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${need[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
