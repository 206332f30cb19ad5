#!/usr/bin/env bash
# Helpers shared by install-node.sh and install-app.sh (sourced, not run).

# Node 20 or newer at /usr/bin/node, where the units expect it (Amazon Linux 2023: nodejs20).
ensure_node() {
  if [ -x /usr/bin/node ] && [ "$(/usr/bin/node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
    return
  fi
  dnf install -y -q nodejs20 nodejs20-npm
  [ -x /usr/bin/node ] || ln -sf /usr/bin/node-20 /usr/bin/node
  [ -x /usr/bin/npm ] || ln -sf /usr/bin/npm-20 /usr/bin/npm
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
