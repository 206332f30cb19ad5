#!/usr/bin/env bash
# Builds what an instance installs into dist/artifacts/ (the folder the CDK app uploads):
#   pixpool-node.js    the cache node, one file needing only Node (npm run build:node)
#   pixpool-app.tgz    the app: compiled dist/src + dist/migrations, config/, package.json and
#                      package-lock.json (the instance runs `npm ci --omit=dev` against the lock)
#   systemd/, install-node.sh, install-app.sh, docs/
# Usage: deploy/scripts/build-artifacts.sh [--skip-build]   (from anywhere; builds first unless
# --skip-build says dist/ is fresh, as in .ci/run right after `npm test`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/dist/artifacts"
cd "$root"

if [ "${1:-}" != "--skip-build" ]; then
  npm run --silent build
  npm run --silent build:node
fi

rm -rf "$out"
mkdir -p "$out/systemd" "$out/docs"
cp dist/pixpool-node.js "$out/"
tar -czf "$out/pixpool-app.tgz" dist/src dist/migrations config package.json package-lock.json
cp deploy/systemd/*.service "$out/systemd/"
cp deploy/scripts/install-node.sh deploy/scripts/install-app.sh deploy/scripts/refresh-node.sh \
  deploy/scripts/common.sh deploy/scripts/grant-db-user.js "$out/"
cp docs/*.md "$out/docs/"
echo "artifacts in $out:"
ls -l "$out"
