#!/usr/bin/env bash
# Installs the pixpool app on this instance from the unpacked artifacts (run as root by user-data).
# Environment (the CDK stack's user-data sets them all):
#   AWS_REGION, PIXPOOL_BUCKET, PIXPOOL_DB_SECRET_ID (the app's own database user: host, port,
#   username, password, dbname), PIXPOOL_DB_MASTER_SECRET_ID (the RDS master user, used here only
#   to create or re-password the app's user: grant-db-user.js), PIXPOOL_NODE_SECRET_ID, PIXPOOL_ADMIN_SECRET_ID, PIXPOOL_POOL_TAG (Key=Value),
#   PIXPOOL_LAUNCH_TEMPLATE (name), PIXPOOL_LAUNCH_TEMPLATE_VERSION (the version launched nodes
#   use), PIXPOOL_VPC_ID (pool members are in this VPC only), PIXPOOL_METRICS_NAMESPACE,
#   PIXPOOL_POOL_INITIAL (default 1), PIXPOOL_CACHE_CAPACITY_MB (default 64), PIXPOOL_ALLOWED_HOSTS
#   (the names clients use, e.g. the certificate's images.example.com: the app refuses any other
#   Host), PIXPOOL_TRUST_PROXY (the load balancer's addresses, e.g. the VPC's CIDR: its
#   X-Forwarded-For names the client); optional:
#   PIXPOOL_LOG_GROUP (CloudWatch Logs), PIXPOOL_READINESS_TARGET_GROUP (registers this instance
#   for the readiness alarm's health checks).
# Exits 0 only once the app answers /health/ready: user-data's exit signals CloudFormation
# (cfn-signal, from aws-cfn-bootstrap), so a broken app fails the deploy or the update.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$here/common.sh"

for name in AWS_REGION PIXPOOL_BUCKET PIXPOOL_DB_SECRET_ID PIXPOOL_DB_MASTER_SECRET_ID \
  PIXPOOL_NODE_SECRET_ID \
  PIXPOOL_ADMIN_SECRET_ID PIXPOOL_POOL_TAG PIXPOOL_LAUNCH_TEMPLATE PIXPOOL_METRICS_NAMESPACE \
  PIXPOOL_VPC_ID; do
  if [ -z "${!name:-}" ]; then
    echo "install-app.sh: $name is required" >&2
    exit 2
  fi
done

# cfn-signal first: without it a failure below could not even be reported.
retry dnf install -y -q aws-cfn-bootstrap
ensure_node
ensure_user
[ -n "${PIXPOOL_LOG_GROUP:-}" ] && ship_logs "$PIXPOOL_LOG_GROUP"
# The app with its production node_modules, built for this CPU (build-artifacts.sh): nothing is
# fetched from a package registry and nothing is compiled, so the instance needs no route to the
# internet, only S3 (the gateway endpoint) and the AWS APIs (NAT or interface endpoints).
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *)
    echo "install-app.sh: no app artifact for CPU $(uname -m)" >&2
    exit 2
    ;;
esac
rm -rf /opt/pixpool/app
install -d -m 755 /opt/pixpool/app /opt/pixpool/docs
tar -xzf "$here/pixpool-app-$arch.tgz" -C /opt/pixpool/app
[ -d "$here/docs" ] && install -m 644 "$here"/docs/*.md /opt/pixpool/docs/
# The service account reads app.yaml through this folder; app.env stays root-only (systemd reads it).
install -d -m 750 -g pixpool /etc/pixpool

database="$(retry read_secret "$AWS_REGION" "$PIXPOOL_DB_SECRET_ID")"
db_host="$(json_field host <<<"$database")"
db_port="$(json_field port <<<"$database")"
db_user="$(json_field username <<<"$database")"
db_name="$(json_field dbname <<<"$database" || echo pixpool)"
master="$(retry read_secret "$AWS_REGION" "$PIXPOOL_DB_MASTER_SECRET_ID")"
# The app's own user, with what its migrations and queries need (again at every install: a
# rotated password of the app's secret takes effect here).
PIXPOOL_APP_DIR=/opt/pixpool/app DB_HOST="$db_host" DB_PORT="$db_port" DB_NAME="$db_name" \
  MASTER_USER="$(json_field username <<<"$master")" \
  MASTER_PASSWORD="$(json_field password <<<"$master")" \
  APP_USER="$db_user" APP_PASSWORD="$(json_field password <<<"$database")" DB_TLS=amazon-rds \
  retry /usr/bin/node "$here/grant-db-user.js"

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
    launchTemplateVersion: '${PIXPOOL_LAUNCH_TEMPLATE_VERSION:-}'
    vpcId: $PIXPOOL_VPC_ID
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
PIXPOOL_SECURITY_NODE_SECRET=$(retry read_secret "$AWS_REGION" "$PIXPOOL_NODE_SECRET_ID")
PIXPOOL_SECURITY_ADMIN_TOKEN=$(retry read_secret "$AWS_REGION" "$PIXPOOL_ADMIN_SECRET_ID")
ENV

install_unit "$here/systemd/pixpool-app.service"
systemctl start pixpool-app.service

if [ -n "${PIXPOOL_READINESS_TARGET_GROUP:-}" ]; then
  imds_token="$(curl -sf -X PUT http://169.254.169.254/latest/api/token \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')"
  instance_id="$(curl -sf -H "X-aws-ec2-metadata-token: $imds_token" \
    http://169.254.169.254/latest/meta-data/instance-id)"
  retry aws elbv2 register-targets --region "$AWS_REGION" \
    --target-group-arn "$PIXPOOL_READINESS_TARGET_GROUP" --targets "Id=$instance_id"
fi

# Ready: database and storage reachable (10 minutes at most).
for _ in $(seq 1 120); do
  curl -sf -o /dev/null http://127.0.0.1:5000/health/ready && exit 0
  sleep 5
done
echo "install-app.sh: the app did not become ready in 10 minutes" >&2
exit 1
