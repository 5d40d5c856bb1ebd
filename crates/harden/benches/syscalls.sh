#!/bin/sh
# System calls of harden's cold, warm and warm --check runs over the files of vs_pinact.sh, by
# `strace -c -f`: counts that do not depend on what else the machine runs (wall time does).
# A benchmark, not a test: see docs/benchmarks.md, "Instruction and system call counts".
#
# usage (from the workspace root, after `cargo build --release -p harden -p harden-testserver`):
#   crates/harden/benches/syscalls.sh [CORPUS]
# needs: strace, python3.
set -eu
root=$(pwd)
corpus=${1:-$root/../shared/corpus}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

python3 "$root/crates/harden/benches/select_pinned_corpus.py" \
    "$corpus" "$root/testdata/recorded/refs" "$work/src" >/dev/null
"$root/target/release/harden-testserver" --latency-ms 50 >"$work/server.out" &
server_pid=$!
sleep 1
url=$(head -n 1 "$work/server.out")
export GITHUB_SERVER_URL="$url" GITHUB_API_URL="$url" GHES_API_URL="$url" GHES_TOKEN=unused
export HARDEN_CACHE_DIR="$work/cache"
unset GITHUB_TOKEN GH_TOKEN
roots=$(cd "$work/src" && ls -d */ | tr "\n" " ")

# run NAME ARGS...: a fresh copy of the files, then harden under strace.
run() {
    name=$1
    shift
    rm -rf "$work/run" && cp -r "$work/src" "$work/run"
    # shellcheck disable=SC2086 # the roots are one word each
    (cd "$work/run" && strace -f -c -o "$work/$name.txt" \
        "${HARDEN_BIN:-$root/target/release/harden}" --only pin-actions "$@" $roots >/dev/null 2>&1) || true
    echo "== $name: $(awk '$NF == "total" { print $4 }' "$work/$name.txt") system calls"
    # calls, errors and name of the 14 most frequent
    awk 'NR > 2 && $NF != "total" && $1 !~ /^-/ {
            if (NF == 6) print $4, $6, "(" $5 " errors)"; else print $4, $5
         }' "$work/$name.txt" | sort -rn | head -14 | tr "\n" ";"
    echo
}

rm -rf "$work/cache"
run cold --format json
run warm --format json
run check --check
