#!/bin/sh
# Bumps the version file (read by git_push.yml); the workflow commits and pushes.
set -eu
sed -i "s/0\.1\.0/0.1.1/" VERSION
