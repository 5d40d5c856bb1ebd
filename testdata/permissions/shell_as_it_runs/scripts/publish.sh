#!/usr/bin/env bash
set -euo pipefail

log() { echo "[publish] $*"; }

push_tags() {
  git tag "v$1"
  git push origin "v$1"
}

log "publishing $1"
push_tags "$1"
