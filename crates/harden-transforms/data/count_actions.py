#!/usr/bin/env python3
"""Count `uses:` references (step actions and reusable workflows) in a corpus of
GitHub Actions workflow files.

Usage:
  count_actions.py [CORPUS_DIR] [--top N] [--check-kb FILE] [--min-count M]

References are normalised to lowercase `owner/repo[/path]` without `@ref`;
local (`./...`) and `docker://` references are skipped.

--top N          print the N most used references with counts (tab-separated)
--check-kb FILE  print which of the top N (or, with --min-count, of those used
                 at least M times) are missing from the knowledge base FILE
                 (keys of its `actions:` mapping) and exit 1 if any are missing
"""
import argparse
import collections
import os
import re
import sys

USES_RE = re.compile(r"""^\s*(?:-\s*)?uses:\s*['"]?([^'"\s#]+)""")
KB_KEY_RE = re.compile(r"""^  (['"]?)([^\s'"#:][^'"#]*?)\1:\s*(?:#.*)?$""")


def normalise(ref):
    ref = ref.strip()
    if not ref or ref.startswith("./") or ref.startswith("../") or ref.startswith("docker://"):
        return None
    if "$" in ref:  # expressions / template placeholders
        return None
    ref = ref.split("@", 1)[0].rstrip("/")
    parts = ref.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return ref.lower()


def count(corpus):
    counter = collections.Counter()
    for root, _dirs, files in os.walk(corpus):
        for name in files:
            if not name.endswith((".yml", ".yaml")):
                continue
            path = os.path.join(root, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        m = USES_RE.match(line)
                        if not m:
                            continue
                        ref = normalise(m.group(1))
                        if ref:
                            counter[ref] += 1
            except OSError:
                continue
    return counter


def kb_keys(path):
    """Keys of the top-level `actions:` mapping (two-space indented keys)."""
    keys = set()
    in_actions = False
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if re.match(r"^actions:\s*(#.*)?$", line):
                in_actions = True
                continue
            if in_actions and re.match(r"^\S", line) and not line.startswith("#"):
                in_actions = False
            if in_actions:
                m = KB_KEY_RE.match(line.rstrip("\n"))
                if m:
                    keys.add(m.group(2).strip().lower())
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default="/work/shared/corpus")
    ap.add_argument("--top", type=int, default=None)
    ap.add_argument("--min-count", type=int, default=None)
    ap.add_argument("--check-kb", metavar="FILE")
    args = ap.parse_args()

    counter = count(args.corpus)
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    selected = ranked
    if args.top is not None:
        selected = selected[: args.top]
    if args.min_count is not None:
        selected = [kv for kv in selected if kv[1] >= args.min_count]

    if args.check_kb:
        keys = kb_keys(args.check_kb)
        missing = [(k, n) for k, n in selected if k not in keys]
        for k, n in missing:
            print(f"{k}\t{n}")
        covered = len(selected) - len(missing)
        print(f"# {covered}/{len(selected)} covered; {len(counter)} distinct references in corpus; "
              f"{len(keys)} KB entries", file=sys.stderr)
        return 1 if missing else 0

    if args.top is None and args.min_count is None:
        print(f"# {len(counter)} distinct references, {sum(counter.values())} uses", file=sys.stderr)
    for k, n in selected:
        print(f"{k}\t{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
