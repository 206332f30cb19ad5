#!/usr/bin/env bash
# Runs at every boot of a cache-node instance after the first (a cloud-init per-boot script,
# installed by install-node.sh): fetches the artifacts the stack currently points at and installs
# them again, then (re)starts the node. If the fetch fails the node starts with what it has: an
# old node is better than no node.
set -uo pipefail
# shellcheck source=/dev/null
. /etc/pixpool/node-install.env
export AWS_REGION PIXPOOL_NODE_SECRET_ID PIXPOOL_ARTIFACTS_PARAMETER PIXPOOL_NODE_PORT \
  PIXPOOL_NODE_CAPACITY_MB

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if url="$(aws ssm get-parameter --name "$PIXPOOL_ARTIFACTS_PARAMETER" \
  --query Parameter.Value --output text)" &&
  aws s3 cp --only-show-errors "$url" "$work/artifacts.zip" &&
  (cd "$work" && python3 -m zipfile -e artifacts.zip . && chmod 755 ./*.sh); then
  "$work/install-node.sh"
else
  echo "pixpool: could not fetch the current artifacts; starting the installed node" >&2
  systemctl start pixpool-node.service
fi
