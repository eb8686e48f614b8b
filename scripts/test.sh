#!/usr/bin/env bash
# The whole test suite, from any state: installs what is missing (scripts/setup.sh), builds,
# type-checks, lints, then runs every unit and end-to-end test. Needs root (containers, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== tests"; npx vitest run "$@"
