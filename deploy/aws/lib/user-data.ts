import { ec2, s3assets } from './cdk';

/*
 * User-data of both instance kinds: fetch the artifacts (dist/artifacts, uploaded by the CDK as
 * one zipped asset), unpack them, run the matching install script with the stack's names. The
 * scripts (deploy/scripts) do the real work and are shellchecked; this only wires values in.
 * Amazon Linux 2023 has the AWS CLI and python3 (used to unzip) out of the box.
 */
export function installUserData(
  artifacts: s3assets.Asset,
  script: 'install-node.sh' | 'install-app.sh',
  env: Record<string, string>,
  args: string[] = [],
): ec2.UserData {
  const userData = ec2.UserData.forLinux();
  const exports = Object.entries(env).map(([name, value]) => `export ${name}='${value}'`);
  userData.addCommands(
    'set -euo pipefail',
    'install -d -m 700 /opt/pixpool/artifacts && cd /opt/pixpool/artifacts',
    `aws s3 cp '${artifacts.s3ObjectUrl}' artifacts.zip`,
    'python3 -m zipfile -e artifacts.zip . && chmod 755 ./*.sh',
    ...exports,
    [`./${script}`, ...args].join(' '),
  );
  return userData;
}
