#!/usr/bin/env python3
"""Chooses the corpus sample kept in `testdata/corpus/` from the full corpus (`../shared/corpus`).

    python3 testdata/select-corpus-sample.py [FULL_CORPUS] [OUT]

Each file of the full corpus is described by the features it shows (YAML constructs: anchors,
aliases, merge keys, flow collections, block scalar styles, CRLF, a BOM, several documents, quoted
keys; workflow constructs: reusable workflows, composite actions, containers, services, matrices,
environments, `pull_request_target`, `id-token`, write commands; every action repository it names,
and every form of reference: SHA, tag, major tag, branch, subdirectory, local, `docker://`). A greedy
cover then picks files until every feature is shown by at least COVER files (fewer when the corpus
has fewer), smallest first among equals, under a size budget. Every `dependabot.y*ml`, and every
local action or reusable workflow a picked workflow calls, come along, so each transform sees what it
needs. The choice is deterministic: run the script again and it picks the same files.
"""

import os
import re
import shutil
import sys
from collections import Counter, defaultdict

COVER = 2  # files per feature, when the corpus has that many
MAX_FILE = 64 * 1024  # larger files only when nothing smaller shows a feature
BUDGET = 2_800_000  # bytes of YAML in the sample

TEXT_FEATURES = {
    "anchor": r"(?m)^[^#\n]*:\s+&[\w-]+",
    "alias": r"(?m)^[^#\n]*(:|-)\s+\*[\w-]+",
    "merge-key": r"(?m)^[\s-]*<<\s*:",
    "flow-mapping": r"(?m)^[^#\n]*:\s+\{",
    "flow-sequence": r"(?m)^[^#\n]*:\s+\[",
    "flow-sequence-multiline": r"(?m):\s+\[[^\]\n]*$",
    "block-literal": r"(?m):\s+\|\s*$",
    "block-literal-strip": r"(?m):\s+\|-\s*$",
    "block-literal-keep": r"(?m):\s+\|\+\s*$",
    "block-folded": r"(?m):\s+>\s*$",
    "block-folded-strip": r"(?m):\s+>-\s*$",
    "block-indent-indicator": r"(?m):\s+[|>][-+]?[1-9]",
    "crlf": r"\r\n",
    "bom": r"^\ufeff",
    "document-start": r"(?m)^---",
    "document-end": r"(?m)^\.\.\.\s*$",
    "multi-document": r"(?s)^.*?\n---.*\n---",
    "quoted-key": r"(?m)^\s*['\"][^'\"]+['\"]\s*:",
    "single-quoted-uses": r"(?m)uses:\s*'",
    "double-quoted-uses": r"(?m)uses:\s*\"",
    "uses-comment": r"(?m)uses:\s*\S+@\S+\s+#",
    "uses-in-flow": r"\{\s*uses:",
    "tab": r"\t",
    "non-ascii": r"[^\x00-\x7f]",
    "tag": r"(?m):\s+!!?\w",
    "explicit-key": r"(?m)^\s*\?\s",
    "on-true": r"(?m)^(on|'on'|\"on\"|true):",
    "on-list": r"(?m)^on:\s*\[",
    "on-string": r"(?m)^on:\s*\w",
    "workflow-call": r"workflow_call",
    "workflow-run": r"workflow_run",
    "workflow-dispatch": r"workflow_dispatch",
    "schedule": r"(?m)^\s+schedule:",
    "pull-request-target": r"pull_request_target",
    "merge-group": r"merge_group",
    "job-uses": r"(?m)^    uses:",
    "job-uses-local": r"(?m)^\s+uses:\s*['\"]?\./\.github/workflows/",
    "job-uses-remote": r"(?m)uses:\s*['\"]?[\w.-]+/[\w.-]+/\.github/workflows/",
    "secrets-inherit": r"secrets:\s*inherit",
    "container": r"(?m)^\s+container:",
    "services": r"(?m)^\s+services:",
    "docker-uses": r"uses:\s*['\"]?docker://",
    "local-action": r"uses:\s*['\"]?\./",
    "matrix": r"(?m)^\s+matrix:",
    "matrix-include": r"(?m)^\s+include:",
    "matrix-in-uses": r"uses:[^\n]*\$\{\{",
    "expression-in-key": r"(?m)^\s+\$\{\{",
    "environment": r"(?m)^\s+environment:",
    "concurrency": r"(?m)^\s*concurrency:",
    "defaults-run": r"(?m)^\s+defaults:",
    "if-condition": r"(?m)^\s+if:",
    "continue-on-error": r"continue-on-error",
    "timeout": r"timeout-minutes",
    "permissions-top": r"(?m)^permissions:",
    "permissions-job": r"(?m)^    permissions:",
    "permissions-empty": r"permissions:\s*\{\s*\}",
    "permissions-read-all": r"permissions:\s*read-all",
    "permissions-write-all": r"permissions:\s*write-all",
    "permissions-comment": r"(?m)^\s+[a-z-]+:\s*(read|write|none)\s*#",
    "id-token-write": r"id-token:\s*write",
    "contents-write": r"contents:\s*write",
    "packages-write": r"packages:\s*write",
    "pages-write": r"pages:\s*write",
    "pull-requests-write": r"pull-requests:\s*write",
    "issues-write": r"issues:\s*write",
    "security-events-write": r"security-events:\s*write",
    "attestations-write": r"attestations:\s*write",
    "git-push": r"git push",
    "git-tag": r"git tag",
    "gh-release": r"gh release",
    "gh-pr": r"gh pr",
    "gh-issue": r"gh issue",
    "gh-api": r"gh api",
    "docker-push": r"docker push|push:\s*true",
    "npm-publish": r"npm publish|pnpm publish|yarn publish",
    "twine-or-pypi": r"twine upload|pypa/gh-action-pypi-publish",
    "cargo-publish": r"cargo publish",
    "github-token-secret": r"secrets\.GITHUB_TOKEN",
    "github-token-expr": r"github\.token",
    "github-script": r"actions/github-script",
    "run-script-file": r"(?m)run:\s*\.?/?[\w/.-]+\.(sh|py)\b",
    "make": r"(?m)run:\s*make\b",
    "shell-pwsh": r"shell:\s*pwsh",
    "shell-bash": r"shell:\s*bash",
    "working-directory": r"working-directory",
    "env-block": r"(?m)^\s+env:",
    "outputs": r"(?m)^\s+outputs:",
    "needs": r"(?m)^\s+needs:",
    "runs-on-list": r"runs-on:\s*\[",
    "runs-on-expr": r"runs-on:\s*\$\{\{",
    "default-branch-placeholder": r"\$default-branch",
    "using-composite": r"using:\s*['\"]?composite",
    "using-node": r"using:\s*['\"]?node",
    "using-docker": r"using:\s*['\"]?docker",
    "dependabot-groups": r"(?m)^\s+groups:",
    "dependabot-cooldown": r"cooldown:",
    "dependabot-registries": r"(?m)^registries:",
    "dependabot-ignore": r"(?m)^\s+ignore:",
    "dependabot-multi-dir": r"directories:",
}
COMPILED = {k: re.compile(v) for k, v in TEXT_FEATURES.items()}
USES = re.compile(r"""uses:\s*['"]?([^\s'"#]+)""")
SHA = re.compile(r"^[0-9a-fA-F]{40}$")


def ref_kind(ref):
    if SHA.match(ref):
        return "sha"
    if "${{" in ref:
        return "expression"
    if re.match(r"^v?\d+$", ref):
        return "major"
    if re.match(r"^v?\d+\.\d+$", ref):
        return "minor"
    if re.match(r"^v?\d+\.\d+\.\d+", ref):
        return "exact"
    if re.match(r"^[0-9a-f]{7,39}$", ref):
        return "short-sha"
    if "/" in ref:
        return "slash-ref"
    return "branch"


def kind_of(rel):
    name = os.path.basename(rel)
    if name in ("dependabot.yml", "dependabot.yaml") and rel.count("/") == 2:
        return "dependabot"
    if rel.split("/", 1)[-1].startswith(".github/workflows/"):
        return "workflow"
    if name in ("action.yml", "action.yaml"):
        return "action"
    return "other"


def features(rel, raw):
    text = raw.decode("utf-8", "replace")
    kind = kind_of(rel)
    out = {"kind:" + kind}
    for name, pattern in COMPILED.items():
        if pattern.search(text):
            out.add(name)
    for match in USES.finditer(text):
        value = match.group(1)
        if value.startswith("./"):
            continue
        if value.startswith("docker://"):
            out.add("ref:docker")
            continue
        if "@" not in value:
            out.add("ref:no-at")
            continue
        action, ref = value.rsplit("@", 1)
        parts = action.split("/")
        if len(parts) < 2:
            continue
        out.add("repo:" + (parts[0] + "/" + parts[1]).lower())
        out.add("ref:" + ref_kind(ref))
        if len(parts) > 2:
            out.add("ref:subdirectory" if "/.github/workflows/" not in action else "ref:reusable")
    if len(raw) > 20000:
        out.add("size:large")
    if rel.startswith("actions__starter-workflows/"):
        out.add("starter-workflow")
    return out


def local_calls(root, rel, raw):
    """The local actions and reusable workflows a file calls, as corpus-relative paths."""
    repo = rel.split("/", 1)[0]
    out = []
    for match in USES.finditer(raw.decode("utf-8", "replace")):
        value = match.group(1)
        if not value.startswith("./"):
            continue
        target = os.path.normpath(value[2:])
        for candidate in (target, target + "/action.yml", target + "/action.yaml"):
            path = os.path.join(root, repo, candidate)
            if os.path.isfile(path):
                out.append(repo + "/" + candidate)
                break
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "corpus")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "corpus")
    files = {}
    for dirpath, dirnames, names in os.walk(root):
        dirnames.sort()
        for name in sorted(names):
            if not name.endswith((".yml", ".yaml")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if "/" not in rel:
                continue
            with open(path, "rb") as f:
                files[rel] = f.read()
    feats = {rel: features(rel, raw) for rel, raw in files.items()}
    # The two files GitHub accepts that saphyr-parser once refused (docs/design.md).
    forced = {r for r in files if r.endswith(("numpy__numpy/.github/workflows/linux_simd.yml",
                                              "pytorch__rl/.github/workflows/nightly_build.yml"))}
    forced |= {r for r in files if kind_of(r) == "dependabot"}
    available = Counter(f for fs in feats.values() for f in fs)
    need = {f: min(1 if f.startswith("repo:") else COVER, n) for f, n in available.items()}
    chosen, size = [], 0

    def take(rel):
        nonlocal size
        if rel in chosen:
            return
        chosen.append(rel)
        size += len(files[rel])
        for f in feats[rel]:
            need[f] = need.get(f, 0) - 1
        for dep in local_calls(root, rel, files[rel]):
            if dep in files:
                take(dep)

    for rel in sorted(forced):
        take(rel)
    while True:
        best, best_score = None, 0.0
        for rel, fs in feats.items():
            if rel in chosen:
                continue
            gain = sum(1 for f in fs if need.get(f, 0) > 0)
            if gain == 0 or size + len(files[rel]) > BUDGET:
                continue
            weight = len(files[rel]) + 2000
            if len(files[rel]) > MAX_FILE:
                weight *= 20
            score = gain / weight
            if score > best_score:
                best, best_score = rel, score
        if best is None:
            break
        take(best)

    if os.path.isdir(out_dir):
        for entry in os.listdir(out_dir):
            path = os.path.join(out_dir, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
    for rel in sorted(chosen):
        target = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(files[rel])
    repos = sorted({rel.split("/", 1)[0] for rel in chosen})
    sources = os.path.join(root, "SOURCES.tsv")
    if os.path.isfile(sources):
        with open(sources) as f:
            lines = f.read().splitlines()
        keep = [lines[0]] + [l for l in lines[1:] if l.split("\t")[0].replace("/", "__") in repos]
        with open(os.path.join(out_dir, "SOURCES.tsv"), "w") as f:
            f.write("\n".join(keep) + "\n")
    missing = sorted(f for f, n in need.items() if n > 0 and available[f] > 0)
    with open(os.path.join(out_dir, "FEATURES.txt"), "w") as f:
        f.write("# feature\tfiles in the sample\tfiles in the full corpus\n")
        for feat in sorted(available):
            n = sum(1 for rel in chosen if feat in feats[rel])
            f.write(f"{feat}\t{n}\t{available[feat]}\n")
    print(f"{len(chosen)} files from {len(repos)} repositories, {size} bytes; "
          f"{len(available)} features; under-covered: {missing}")


if __name__ == "__main__":
    main()
