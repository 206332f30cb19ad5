#!/usr/bin/env bash
# Helpers shared by install-node.sh and install-app.sh (sourced, not run).

# Retries a command that needs the network (about 5 minutes in all): an instance may boot before
# its route out or the endpoints answer.
retry() {
  local n
  for n in 1 2 3 4 5 6 7 8 9 10; do
    "$@" && return 0
    echo "attempt $n failed: $*" >&2
    sleep $((n * 6))
  done
  return 1
}

# Node 24 at /usr/bin/node, where the units expect it (Amazon Linux 2023: nodejs24, from the
# distribution's repositories, which are in S3: reachable through the S3 gateway endpoint). No
# npm: the artifacts carry the app's node_modules.
ensure_node() {
  if [ -x /usr/bin/node ] && [ "$(/usr/bin/node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then
    return
  fi
  retry dnf install -y -q nodejs24
  [ -x /usr/bin/node ] || ln -sf /usr/bin/node-24 /usr/bin/node
}

# The journal (through rsyslog) and cloud-init's output to CloudWatch log group $1, by the
# CloudWatch agent; the group's retention is the stack's.
ship_logs() {
  local group="$1" config=/opt/aws/amazon-cloudwatch-agent/etc/pixpool.json
  retry dnf install -y -q rsyslog amazon-cloudwatch-agent
  systemctl enable --now rsyslog
  install -d -m 755 "$(dirname "$config")"
  install -m 644 /dev/stdin "$config" <<JSON
{"logs": {"logs_collected": {"files": {"collect_list": [
  {"file_path": "/var/log/messages", "log_group_name": "$group", "log_stream_name": "{instance_id}/messages"},
  {"file_path": "/var/log/cloud-init-output.log", "log_group_name": "$group", "log_stream_name": "{instance_id}/cloud-init"}
]}}}}
JSON
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
    -c "file:$config"
}

# The service account both units run as: no shell, no home to write to.
ensure_user() {
  id pixpool >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin pixpool
}

# Prints the SecretString of a Secrets Manager secret (the instance role may read it).
read_secret() {
  aws secretsmanager get-secret-value --region "$1" --secret-id "$2" \
    --query SecretString --output text
}

# Prints one field of a JSON object read from stdin (no jq on a minimal image; Node is there).
json_field() {
  /usr/bin/node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c));
    process.stdin.on("end", () => { const v = JSON.parse(s)[process.argv[1]];
      if (v === undefined) process.exit(3); process.stdout.write(String(v)); });' "$1"
}

# Writes stdin to a root-only file atomically (secrets never sit world-readable, even briefly).
write_private() {
  local target="$1" tmp
  tmp="$(mktemp "$(dirname "$target")/.tmp.XXXXXX")"
  chmod 600 "$tmp"
  cat >"$tmp"
  mv -f "$tmp" "$target"
}

install_unit() {
  install -m 644 "$1" /etc/systemd/system/
  systemctl daemon-reload
  systemctl enable "$(basename "$1")"
}
