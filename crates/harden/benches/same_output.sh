#!/bin/sh
# Two harden binaries, every transform with --dry-run over every project of the corpus against
# the test server: their diffs and messages must be byte-identical. The check behind "no result
# changed" in docs/benchmarks.md ("Instruction and system call counts").
#
# usage (from the workspace root, after `cargo build --release -p harden -p harden-testserver`
# and a build of the other commit, e.g. with `git worktree add`):
#   crates/harden/benches/same_output.sh OLD_HARDEN [NEW_HARDEN] [CORPUS]
set -eu
root=$(pwd)
old=$(realpath "$1")
new=$(realpath "${2:-$root/target/release/harden}")
corpus=${3:-$root/../shared/corpus}
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

"$root/target/release/harden-testserver" >"$work/server.out" &
server_pid=$!
sleep 1
url=$(head -n 1 "$work/server.out")
export GITHUB_SERVER_URL="$url" GITHUB_API_URL="$url"
unset GITHUB_TOKEN GH_TOKEN

# run BINARY OUT: every project, in name order, into one file (exit codes included).
run() {
    export HARDEN_CACHE_DIR="$work/cache-$2"
    for project in "$corpus"/*/; do
        echo "=== $(basename "$project")"
        status=0
        (cd "$project" && "$1" --dry-run --color never . 2>&1) || status=$?
        echo "exit $status"
    done >"$work/$2.txt"
}
run "$old" old
run "$new" new
if cmp -s "$work/old.txt" "$work/new.txt"; then
    echo "identical: $(wc -l <"$work/new.txt") lines over $(ls -d "$corpus"/*/ | wc -l) projects"
else
    diff -u "$work/old.txt" "$work/new.txt" | head -50
    exit 1
fi
