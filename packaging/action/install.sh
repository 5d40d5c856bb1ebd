#!/usr/bin/env bash
# Installs harden for action.yml and the sweep workflow: the harden-rs wheel pinned with its
# hashes in requirements.txt beside this script (pip --require-hashes --only-binary :all:, so
# nothing is built and nothing unpinned is installed), into a virtual environment of its own
# under RUNNER_TEMP (or $1). Prints `harden=<path of the binary>` to $GITHUB_OUTPUT when set,
# and to standard output.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="${here}/requirements.txt"
if ! grep -q -- '--hash=sha256:' "${requirements}"; then
  echo "::error::this version of harden pins no released wheel (packaging/action/requirements.txt has no hashes): use a commit of harden-rs/harden after a release"
  exit 1
fi
python=python3
command -v "${python}" >/dev/null || python=python
venv="${1:-${RUNNER_TEMP:-/tmp}/harden-venv}"
"${python}" -m venv "${venv}"
bin="${venv}/bin"
if [ -d "${venv}/Scripts" ]; then bin="${venv}/Scripts"; fi
"${bin}/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --require-hashes --only-binary :all: -r "${requirements}"
harden="${bin}/harden"
if [ -x "${bin}/harden.exe" ]; then harden="${bin}/harden.exe"; fi
"${harden}" --version >&2
echo "harden=${harden}"
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "harden=${harden}" >> "${GITHUB_OUTPUT}"; fi
