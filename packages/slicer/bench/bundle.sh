#!/bin/sh
# Bundles the hot-path harness of the tree at $1 (default: this repository) into $2/hot.mjs with esbuild (no tsx
# loader in the measured process). $2 must sit two levels below a directory where an `addon` link to
# packages/native/addon is made (NativeSha1 looks for its addon at ../../addon from the bundle), e.g. /tmp/x/b/after.
set -e
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
TREE=${1:-$ROOT}
OUT=$2
mkdir -p "$OUT"
ln -sfn "$ROOT/packages/native/addon" "$OUT/../../addon"
cd "$TREE" && "$ROOT/node_modules/.bin/esbuild" \
  packages/slicer/bench/hotpath.bench.ts --bundle --platform=node --format=esm --outfile="$OUT/hot.mjs" --log-level=error
