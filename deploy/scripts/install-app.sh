#!/usr/bin/env bash
# Installs the pixpool app on this instance from the unpacked artifacts (run as root by user-data).
# Environment (the CDK stack's user-data sets them all):
#   AWS_REGION, PIXPOOL_BUCKET, PIXPOOL_DB_SECRET_ID (RDS credentials: host, port, username,
#   password, dbname), PIXPOOL_NODE_SECRET_ID, PIXPOOL_ADMIN_SECRET_ID, PIXPOOL_POOL_TAG (Key=Value),
#   PIXPOOL_LAUNCH_TEMPLATE (name), PIXPOOL_METRICS_NAMESPACE, PIXPOOL_POOL_INITIAL (default 1),
#   PIXPOOL_CACHE_CAPACITY_MB (default 64), PIXPOOL_ALLOWED_HOSTS (the names clients use, e.g. the
#   certificate's images.example.com: the app refuses any other Host), PIXPOOL_TRUST_PROXY (the
#   load balancer's addresses, e.g. the VPC's CIDR: its X-Forwarded-For names the client).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

for name in AWS_REGION PIXPOOL_BUCKET PIXPOOL_DB_SECRET_ID PIXPOOL_NODE_SECRET_ID \
  PIXPOOL_ADMIN_SECRET_ID PIXPOOL_POOL_TAG PIXPOOL_LAUNCH_TEMPLATE PIXPOOL_METRICS_NAMESPACE; do
  if [ -z "${!name:-}" ]; then
    echo "install-app.sh: $name is required" >&2
    exit 2
  fi
done

ensure_node
ensure_user
install -d -m 755 /opt/pixpool/app /opt/pixpool/docs
tar -xzf "$here/pixpool-app.tgz" -C /opt/pixpool/app
[ -d "$here/docs" ] && install -m 644 "$here"/docs/*.md /opt/pixpool/docs/
# better-sqlite3 (the embedded key-table driver) is a native module: npm fetches a prebuilt
# binary when one matches, and compiles it otherwise, which needs a toolchain.
dnf install -y -q gcc-c++ make python3 >/dev/null
(cd /opt/pixpool/app && npm ci --omit=dev --no-audit --no-fund)
# The service account reads app.yaml through this folder; app.env stays root-only (systemd reads it).
install -d -m 750 -g pixpool /etc/pixpool

database="$(read_secret "$AWS_REGION" "$PIXPOOL_DB_SECRET_ID")"
db_host="$(json_field host <<<"$database")"
db_port="$(json_field port <<<"$database")"
db_user="$(json_field username <<<"$database")"
db_name="$(json_field dbname <<<"$database" || echo pixpool)"

# Settings: nothing secret, readable by the service account.
install -m 640 -g pixpool /dev/stdin /etc/pixpool/app.yaml <<YAML
server:
  host: 0.0.0.0
  port: 5000
  trustProxy: '${PIXPOOL_TRUST_PROXY:-}'
security:
  allowedHosts: '${PIXPOOL_ALLOWED_HOSTS:-}'
  tlsInFront: true # the load balancer terminates TLS: pages send Strict-Transport-Security
limits:
  # Above the load balancer's 60 s idle timeout: it must never reuse a connection the app is
  # closing (that answers 502).
  keepAliveTimeoutMs: 65000
storage:
  driver: s3
  bucket: $PIXPOOL_BUCKET
  region: $AWS_REGION
database:
  driver: mysql
  host: $db_host
  port: $db_port
  user: $db_user
  database: $db_name
  ssl: amazon-rds
pool:
  provider: ec2
  initial: ${PIXPOOL_POOL_INITIAL:-1}
  ec2:
    region: $AWS_REGION
    tag: $PIXPOOL_POOL_TAG
    launchTemplate: $PIXPOOL_LAUNCH_TEMPLATE
cache:
  capacityMb: ${PIXPOOL_CACHE_CAPACITY_MB:-64}
metrics:
  driver: cloudwatch
  namespace: $PIXPOOL_METRICS_NAMESPACE
  region: $AWS_REGION
log:
  format: json
YAML

# Secrets: read by systemd (root) into the service's environment, never by the service account.
write_private /etc/pixpool/app.env <<ENV
PIXPOOL_DATABASE_PASSWORD=$(json_field password <<<"$database")
PIXPOOL_SECURITY_NODE_SECRET=$(read_secret "$AWS_REGION" "$PIXPOOL_NODE_SECRET_ID")
PIXPOOL_SECURITY_ADMIN_TOKEN=$(read_secret "$AWS_REGION" "$PIXPOOL_ADMIN_SECRET_ID")
ENV

install_unit "$here/systemd/pixpool-app.service"
systemctl start pixpool-app.service
