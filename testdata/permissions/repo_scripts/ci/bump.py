# Bumps the version and commits it: git through subprocess, which harden does not follow.
import re
import subprocess
from pathlib import Path

path = Path("VERSION")
major, minor, patch = path.read_text().strip().split(".")
path.write_text(f"{major}.{minor}.{int(patch) + 1}\n")
subprocess.run(["git", "commit", "-am", "Bump version"], check=True)
