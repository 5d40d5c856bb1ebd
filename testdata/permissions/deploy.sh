#!/bin/sh
# Deploys the built site to the environment named in $1 (read by environment.yml).
set -eu
rsync -a site/ "deploy@example.com:/srv/$1/"
