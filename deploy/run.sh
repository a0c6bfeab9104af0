#!/usr/bin/env bash
# Installs, builds and runs Scribe: `deploy/run.sh serve` (the default) or
# `deploy/run.sh demo`; any further arguments go to build/scribe.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
[ $# -eq 0 ] && set -- serve
exec build/scribe "$@"
