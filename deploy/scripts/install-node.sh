#!/usr/bin/env bash
# Installs a cache node on this instance from the unpacked artifacts (run as root by user-data).
# Environment: AWS_REGION, PIXPOOL_NODE_SECRET_ID (Secrets Manager id of the node secret),
#   PIXPOOL_ARTIFACTS_PARAMETER (SSM parameter holding the artifacts' S3 URL),
#   PIXPOOL_NODE_PORT (default 5001), PIXPOOL_NODE_CAPACITY_MB (default 64; the app pushes the
#   configured capacity to every node anyway).
# --stop-after-install: power off once installed (pre-provisioned nodes; see docs/deploy-aws.md).
# --no-start: install only (the refresh at boot; systemd starts the node after it).
# cloud-init runs user-data on the first boot only; every later boot runs refresh-node.sh first
# (pixpool-node-refresh.service, ordered before the node's unit), which installs the current
# artifacts again: that is how a node is upgraded (docs/operations.md) and how it picks up a
# rotated secret. The refresh is installed first of all, before anything here that can time out
# (package installs, secret reads): a first boot cut short is completed by the next boot's
# refresh instead of leaving an instance that never becomes a node.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

: "${AWS_REGION:?AWS_REGION is required}"
: "${PIXPOOL_NODE_SECRET_ID:?PIXPOOL_NODE_SECRET_ID is required}"
: "${PIXPOOL_ARTIFACTS_PARAMETER:?PIXPOOL_ARTIFACTS_PARAMETER is required}"
port="${PIXPOOL_NODE_PORT:-5001}"
capacity="${PIXPOOL_NODE_CAPACITY_MB:-64}"
mode="${1:-}"

# What refresh-node.sh needs at the next boot (nothing secret: the secret is fetched again).
install -d -m 700 /etc/pixpool
install -d -m 755 /opt/pixpool/node /opt/pixpool/docs
write_private /etc/pixpool/node-install.env <<ENV
AWS_REGION=$AWS_REGION
PIXPOOL_NODE_SECRET_ID=$PIXPOOL_NODE_SECRET_ID
PIXPOOL_ARTIFACTS_PARAMETER=$PIXPOOL_ARTIFACTS_PARAMETER
PIXPOOL_NODE_PORT=$port
PIXPOOL_NODE_CAPACITY_MB=$capacity
PIXPOOL_LOG_GROUP=${PIXPOOL_LOG_GROUP:-}
ENV
install -m 755 "$here/refresh-node.sh" /opt/pixpool/node/refresh-node.sh
install_unit "$here/systemd/pixpool-node-refresh.service"

ensure_node
ensure_user
[ -n "${PIXPOOL_LOG_GROUP:-}" ] && ship_logs "$PIXPOOL_LOG_GROUP"
install -m 644 "$here/pixpool-node.js" /opt/pixpool/node/pixpool-node.js
[ -d "$here/docs" ] && install -m 644 "$here"/docs/*.md /opt/pixpool/docs/

secret="$(retry read_secret "$AWS_REGION" "$PIXPOOL_NODE_SECRET_ID")"
write_private /etc/pixpool/node.env <<ENV
PIXPOOL_NODE_SECRET=$secret
PIXPOOL_NODE_ARGS=--host 0.0.0.0 --port $port --capacity-mb $capacity
ENV

install_unit "$here/systemd/pixpool-node.service"
case "$mode" in
  --stop-after-install)
    echo "pixpool node installed; powering off until the pool starts this instance"
    systemctl poweroff
    ;;
  --no-start) ;;
  *) systemctl restart pixpool-node.service ;;
esac
