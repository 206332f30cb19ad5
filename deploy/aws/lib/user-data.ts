import { ec2 } from './cdk';

/*
 * User-data of both instance kinds: look up where the current artifacts are (an SSM parameter the
 * stack keeps pointing at the latest upload of dist/artifacts), fetch and unpack them, run the
 * matching install script with the stack's names. The scripts (deploy/scripts) do the real work
 * and are shellchecked; this only wires values in. Going through the parameter keeps the
 * user-data identical from one deploy to the next, so a deploy with new artifacts never makes
 * CloudFormation stop and restart running cache nodes to rewrite their user-data; nodes pick the
 * new artifacts up at their next boot instead (refresh-node.sh). Every fetch is retried: an
 * instance may boot before its route out (or the endpoints) answer, and one failed call would
 * otherwise leave it uninstalled for good. Amazon Linux 2023 has the AWS CLI and python3 (used to
 * unzip).
 */
export function installUserData(
  artifactsParameter: string,
  region: string,
  script: 'install-node.sh' | 'install-app.sh',
  env: Record<string, string>,
  args: string[] = [],
): ec2.UserData {
  const userData = ec2.UserData.forLinux();
  const exports = Object.entries({
    AWS_REGION: region,
    PIXPOOL_ARTIFACTS_PARAMETER: artifactsParameter,
    ...env,
  }).map(([name, value]) => `export ${name}='${value}'`);
  userData.addCommands(
    'set -euo pipefail',
    ...exports,
    // About 5 minutes in all before giving up.
    'retry() { local n; for n in 1 2 3 4 5 6 7 8 9 10; do "$@" && return 0; echo "attempt $n failed: $*" >&2; sleep $((n * 6)); done; return 1; }',
    'install -d -m 700 /opt/pixpool/artifacts && cd /opt/pixpool/artifacts',
    'url="$(retry aws ssm get-parameter --name "$PIXPOOL_ARTIFACTS_PARAMETER" --query Parameter.Value --output text)"',
    'retry aws s3 cp --only-show-errors "$url" artifacts.zip',
    'python3 -m zipfile -e artifacts.zip . && chmod 755 ./*.sh',
    [`./${script}`, ...args].join(' '),
  );
  return userData;
}
