"""Chooses the files of the pinact comparison (docs/benchmarks.md): every workflow of the shared
corpus whose `uses:` references all name repositories in the recorded refs (so both tools can
resolve everything against the test server) and that has at least one unpinned reference.

usage: python3 select_pinned_corpus.py CORPUS REFS_DIR OUT_DIR
Copies the chosen files to OUT_DIR/<project>/.github/workflows/ and prints
"files references repositories".
"""
import os
import re
import shutil
import sys

corpus, refs_dir, out = sys.argv[1:4]
served = {f[:-5].lower() for f in os.listdir(refs_dir) if f.endswith(".json")}
uses = re.compile(r"^\s*-?\s*uses:\s*[\"']?([^\s\"'#]+)", re.M)
files = refs = 0
repos = set()
for project in sorted(os.listdir(corpus)):
    wf = os.path.join(corpus, project, ".github", "workflows")
    if not os.path.isdir(wf):
        continue
    for name in sorted(os.listdir(wf)):
        if not name.endswith((".yml", ".yaml")):
            continue
        path = os.path.join(wf, name)
        text = open(path, encoding="utf-8", errors="replace").read()
        found = [u for u in uses.findall(text) if "@" in u and not u.startswith(("./", "docker://"))]
        unpinned = []
        for u in found:
            name_part, ref = u.rsplit("@", 1)
            parts = name_part.split("/")
            key = (parts[0] + "__" + parts[1]).lower() if len(parts) > 1 else ""
            if key not in served:
                unpinned = []
                break
            if not re.fullmatch(r"[0-9a-f]{40}", ref):
                unpinned.append(key)
        if not unpinned:
            continue
        files += 1
        refs += len(unpinned)
        repos |= set(unpinned)
        dest = os.path.join(out, project, ".github", "workflows")
        os.makedirs(dest, exist_ok=True)
        shutil.copy(path, dest)
print(files, refs, len(repos))
