#!/usr/bin/env python3
"""Release helpers for `.github/workflows/release.yml` (standard library only; Python 3.8+).

    python packaging/release.py version
        Prints the crate's version (`[workspace.package] version` of Cargo.toml).
    python packaging/release.py binary WHEEL OUTDIR [TARGET]
        Writes the `harden` binary held by WHEEL as a plain archive in OUTDIR:
        `harden-<version>-<TARGET>.tar.gz` (`.zip` for Windows), the binary at its root; TARGET
        is the Rust target triple the wheel was built for (default: the wheel's platform tag).
    python packaging/release.py requirements DIST OUT
        Writes OUT, a pip requirements file pinning `harden-rs==<version>` with the SHA-256 of
        every wheel and sdist in DIST (for `pip install --require-hashes`; read by action.yml).
    python packaging/release.py hook-repo OUTDIR
        Copies the pre-commit hook template (packaging/pre-commit-hook) to OUTDIR, after checking
        that it depends on the crate's version.

Every command exits 1 with a message on stderr when its input is not what it expects.
"""

import hashlib
import io
import re
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "harden-rs"
HOOK_TEMPLATE = ROOT / "packaging" / "pre-commit-hook"


def fail(message):
    sys.stderr.write("error: " + message + "\n")
    sys.exit(1)


def crate_version():
    """The version of `[workspace.package]` in the root Cargo.toml."""
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[workspace\.package\]\n(.*?)(?=^\[)", text, re.M | re.S)
    found = section and re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not found:
        fail("Cargo.toml has no `[workspace.package] version`")
    return found.group(1)


def wheel_parts(name):
    """(version, platform tag) of a wheel file name (PEP 427)."""
    parts = name[: -len(".whl")].split("-")
    if not name.endswith(".whl") or len(parts) not in (5, 6):
        fail(name + ": not a wheel file name")
    return parts[1], parts[-1]


def binary(wheel, outdir, target=None):
    wheel = Path(wheel)
    version, platform = wheel_parts(wheel.name)
    if target is not None:
        if not re.fullmatch(r"[a-z0-9_]+(-[a-z0-9_]+){1,3}", target):
            fail(target + ": not a target triple")
        platform = target
    with zipfile.ZipFile(wheel) as archive:
        scripts = [
            n for n in archive.namelist()
            if re.fullmatch(r"[^/]+\.data/scripts/harden(\.exe)?", n)
        ]
        if len(scripts) != 1:
            fail(wheel.name + ": expected one harden binary in .data/scripts/, found %d" % len(scripts))
        exe = Path(scripts[0]).name
        data = archive.read(scripts[0])
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = "harden-%s-%s" % (version, platform)
    if exe.endswith(".exe"):
        out = outdir / (stem + ".zip")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(exe, data)
    else:
        out = outdir / (stem + ".tar.gz")
        with tarfile.open(out, "w:gz") as tar:
            info = tarfile.TarInfo(exe)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    print(out)


def requirements(dist, out):
    dist = Path(dist)
    files = sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")) and p.name.startswith("harden_rs-"))
    if not files:
        fail("%s: no harden_rs wheel or sdist" % dist)
    versions = {p.name.split("-")[1].replace(".tar.gz", "") for p in files}
    if len(versions) != 1:
        fail("%s: files of several versions: %s" % (dist, ", ".join(sorted(versions))))
    version = versions.pop()
    lines = [
        "# Written by packaging/release.py (release workflow): the wheels of harden %s and" % version,
        "# their SHA-256, for `pip install --require-hashes --only-binary :all:` (action.yml).",
        "%s==%s \\" % (PACKAGE, version),
    ]
    hashes = ["    --hash=sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    lines.append(" \\\n".join(hashes))
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("%s: %s %s, %d files" % (out, PACKAGE, version, len(files)))


def hook_repo(outdir):
    version = crate_version()
    pyproject = (HOOK_TEMPLATE / "pyproject.toml").read_text(encoding="utf-8")
    wanted = '"%s==%s"' % (PACKAGE, version)
    if wanted not in pyproject:
        fail("packaging/pre-commit-hook/pyproject.toml must depend on %s (the crate's version)" % wanted)
    shutil.copytree(HOOK_TEMPLATE, outdir)
    print(outdir)


def main(argv):
    commands = {"version": (0,), "binary": (2, 3), "requirements": (2,), "hook-repo": (1,)}
    if not argv or argv[0] not in commands or len(argv) - 1 not in commands[argv[0]]:
        fail("usage: see the top of packaging/release.py")
    if argv[0] == "version":
        print(crate_version())
    elif argv[0] == "binary":
        binary(*argv[1:])
    elif argv[0] == "requirements":
        requirements(*argv[1:])
    else:
        hook_repo(argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
