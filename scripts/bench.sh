#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, bundles the benchmark runner and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx esbuild bench/run.ts --bundle --platform=node --format=esm --target=node20 --outfile=dist/bench.mjs --external:playwright-core \
  --banner:js="import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" --log-level=warning
node dist/bench.mjs "$@"
