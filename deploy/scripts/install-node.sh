#!/usr/bin/env bash
# Installs a cache node on this instance from the unpacked artifacts (run as root by user-data).
# Environment: AWS_REGION, PIXPOOL_NODE_SECRET_ID (Secrets Manager id of the node secret),
#   PIXPOOL_ARTIFACTS_PARAMETER (SSM parameter holding the artifacts' S3 URL),
#   PIXPOOL_NODE_PORT (default 5001), PIXPOOL_NODE_CAPACITY_MB (default 64; the app pushes the
#   configured capacity to every node anyway).
# --stop-after-install: power off once installed (pre-provisioned nodes; see docs/deploy-aws.md).
# cloud-init runs user-data on the first boot only; every later boot runs refresh-node.sh (a
# cloud-init per-boot script installed here), which installs the current artifacts again: that
# is how a node is upgraded (docs/operations.md) and how it picks up a rotated secret.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

: "${AWS_REGION:?AWS_REGION is required}"
: "${PIXPOOL_NODE_SECRET_ID:?PIXPOOL_NODE_SECRET_ID is required}"
: "${PIXPOOL_ARTIFACTS_PARAMETER:?PIXPOOL_ARTIFACTS_PARAMETER is required}"
port="${PIXPOOL_NODE_PORT:-5001}"
capacity="${PIXPOOL_NODE_CAPACITY_MB:-64}"
stop_after_install=false
[ "${1:-}" = "--stop-after-install" ] && stop_after_install=true

ensure_node
ensure_user
install -d -m 755 /opt/pixpool/node /opt/pixpool/docs
install -m 644 "$here/pixpool-node.js" /opt/pixpool/node/pixpool-node.js
[ -d "$here/docs" ] && install -m 644 "$here"/docs/*.md /opt/pixpool/docs/
install -d -m 700 /etc/pixpool

secret="$(read_secret "$AWS_REGION" "$PIXPOOL_NODE_SECRET_ID")"
write_private /etc/pixpool/node.env <<ENV
PIXPOOL_NODE_SECRET=$secret
PIXPOOL_NODE_ARGS=--host 0.0.0.0 --port $port --capacity-mb $capacity
ENV

# What refresh-node.sh needs at the next boot (nothing secret: the secret is fetched again).
write_private /etc/pixpool/node-install.env <<ENV
AWS_REGION=$AWS_REGION
PIXPOOL_NODE_SECRET_ID=$PIXPOOL_NODE_SECRET_ID
PIXPOOL_ARTIFACTS_PARAMETER=$PIXPOOL_ARTIFACTS_PARAMETER
PIXPOOL_NODE_PORT=$port
PIXPOOL_NODE_CAPACITY_MB=$capacity
ENV
install -D -m 755 "$here/refresh-node.sh" /var/lib/cloud/scripts/per-boot/pixpool-refresh-node.sh

install_unit "$here/systemd/pixpool-node.service"
if $stop_after_install; then
  echo "pixpool node installed; powering off until the pool starts this instance"
  systemctl poweroff
else
  systemctl restart pixpool-node.service
fi
