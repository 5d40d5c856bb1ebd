#!/usr/bin/env bash
set -eu
$LINT ruff check .
