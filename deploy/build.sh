#!/usr/bin/env bash
# Installs the Debian packages Scribe needs (when missing) and builds it into build/.
# CI=true turns warnings into errors.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCRIBE_WERROR="$werror" >/dev/null
cmake --build build --parallel "$(nproc)"
