#!/usr/bin/env bash
# Builds what an instance installs into dist/artifacts/ (the folder the CDK app uploads):
#   pixpool-node.js          the cache node, one file needing only Node (npm run build:node)
#   pixpool-app-x64.tgz      the app for x86_64 instances: compiled dist/src + dist/migrations,
#   pixpool-app-arm64.tgz    config/, package.json, package-lock.json and node_modules, the
#                            production dependencies installed here from the lock for Linux on
#                            that CPU (sharp's prebuilt @img/sharp-linux-<arch> and libvips
#                            packages), so an instance installs from S3 alone: no npm, no registry,
#                            no compiler (install-app.sh unpacks the one for `uname -m`)
#   systemd/, install-node.sh, install-app.sh, docs/
# better-sqlite3, the embedded key-table driver, is left out of both: it is a native module built
# per platform, and on AWS the app uses MySQL (RDS); TypeORM loads a driver's package only when
# that driver is chosen.
# Usage: deploy/scripts/build-artifacts.sh [--skip-build]   (from anywhere; builds first unless
# --skip-build says dist/ is fresh, as in .ci/run right after `npm test`). Needs npm >= 10 (--os,
# --cpu, --libc); packages come from npm's cache when it has them (--prefer-offline).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/dist/artifacts"
cd "$root"

if [ "${1:-}" != "--skip-build" ]; then
  npm run --silent build
  npm run --silent build:node
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/pixpool-artifacts.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

# The production node_modules for Linux on CPU $1 (x64 | arm64), in $stage/$1. Install scripts
# are not run: sharp's native code comes prebuilt in its @img packages, chosen by --cpu/--libc.
app_modules() {
  local arch="$1" dir="$stage/$1"
  mkdir -p "$dir"
  cp package.json package-lock.json "$dir/"
  (cd "$dir" && npm ci --omit=dev --ignore-scripts --os=linux --cpu="$arch" --libc=glibc \
    --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  rm -rf "$dir/node_modules/better-sqlite3"
  if [ ! -d "$dir/node_modules/@img/sharp-linux-$arch" ]; then
    echo "build-artifacts.sh: npm did not install @img/sharp-linux-$arch" >&2
    return 1
  fi
}

# Both at once: they share npm's cache and are mostly waiting on the disk.
app_modules x64 &
x64=$!
app_modules arm64 &
arm64=$!
wait "$x64"
wait "$arm64"

rm -rf "$out"
mkdir -p "$out/systemd" "$out/docs"
cp dist/pixpool-node.js "$out/"
for arch in x64 arm64; do
  tar -czf "$out/pixpool-app-$arch.tgz" dist/src dist/migrations config package.json \
    package-lock.json -C "$stage/$arch" node_modules
done
cp deploy/systemd/*.service "$out/systemd/"
cp deploy/scripts/install-node.sh deploy/scripts/install-app.sh deploy/scripts/refresh-node.sh \
  deploy/scripts/common.sh deploy/scripts/grant-db-user.js "$out/"
cp docs/*.md "$out/docs/"
echo "artifacts in $out:"
ls -l "$out"
