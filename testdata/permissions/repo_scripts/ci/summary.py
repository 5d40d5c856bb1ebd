#!/usr/bin/env python3
# Summarises test results into a Markdown table: standard-library modules that neither run
# programs nor open connections, so harden settles it.
import json
import sys
from pathlib import Path

results = json.loads(Path(sys.argv[1]).read_text())
rows = [f"| {name} | {outcome} |" for name, outcome in sorted(results.items())]
print("\n".join(["| test | outcome |", "| --- | --- |", *rows]))
