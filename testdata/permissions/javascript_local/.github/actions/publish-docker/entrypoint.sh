#!/bin/sh
set -e
git -C /github/workspace push origin HEAD:gh-pages
