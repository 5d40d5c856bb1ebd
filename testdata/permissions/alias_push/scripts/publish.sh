#!/bin/sh
# Tags the release and pushes it with the checkout credentials.
set -e
git tag "v$(cat VERSION)"
git push origin --tags
