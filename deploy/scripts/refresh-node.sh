#!/usr/bin/env bash
# Runs at every boot of a cache-node instance, before the node starts
# (pixpool-node-refresh.service, installed by install-node.sh): fetches the artifacts the stack
# currently points at and installs them (install-node.sh --no-start; systemd starts the node once
# this unit is done). If the fetch fails the node starts with what it has: an old node is better
# than no node. A first install cut short (the instance stopped mid-way) is completed here.
set -uo pipefail
# shellcheck source=/dev/null
. /etc/pixpool/node-install.env
export AWS_REGION PIXPOOL_NODE_SECRET_ID PIXPOOL_ARTIFACTS_PARAMETER PIXPOOL_NODE_PORT \
  PIXPOOL_NODE_CAPACITY_MB PIXPOOL_LOG_GROUP

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if url="$(aws ssm get-parameter --name "$PIXPOOL_ARTIFACTS_PARAMETER" \
  --query Parameter.Value --output text)" &&
  aws s3 cp --only-show-errors "$url" "$work/artifacts.zip" &&
  (cd "$work" && python3 -m zipfile -e artifacts.zip . && chmod 755 ./*.sh); then
  "$work/install-node.sh" --no-start || echo "pixpool: refresh failed; starting the installed node" >&2
else
  echo "pixpool: could not fetch the current artifacts; starting the installed node" >&2
fi
# Queued, not waited for: the node's unit is ordered after this one. Also starts a node whose
# unit was first enabled by the install above (too late for this boot's own start).
systemctl start --no-block pixpool-node.service
exit 0
