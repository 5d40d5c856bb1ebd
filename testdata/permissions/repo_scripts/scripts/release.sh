#!/usr/bin/env bash
# Tags the release and pushes the tag.
set -euo pipefail
git tag "v$1"
git push origin "v$1"
