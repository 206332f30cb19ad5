import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * The units and scripts that put pixpool on an instance are checked by the tools that would run
 * them: `systemd-analyze verify` (which prints problems but exits 0 on most of them, so any output
 * is a failure here) and shellcheck. Without the tools the suite is skipped with a warning, except
 * under CI=true, where .ci/run has installed them and a missing tool fails.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const UNITS = ['pixpool-node.service', 'pixpool-app.service'].map((unit) =>
  path.join(ROOT, 'deploy', 'systemd', unit),
);
const SCRIPTS = fs
  .readdirSync(path.join(ROOT, 'deploy', 'scripts'))
  .filter((file) => file.endsWith('.sh'))
  .map((file) => path.join(ROOT, 'deploy', 'scripts', file))
  .concat(path.join(ROOT, '.ci', 'run'));

function available(tool: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (!found && process.env.CI === 'true') throw new Error(`${tool} is missing (CI=true)`);
  if (!found) console.warn(`${tool} not installed: skipping its checks`);
  return found;
}

function run(tool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

const describeSystemd = available('systemd-analyze') ? describe : describe.skip;
const describeShellcheck = available('shellcheck') ? describe : describe.skip;

describeSystemd('systemd units', () => {
  it.each(UNITS)('%s passes systemd-analyze verify with no complaint', (unit) => {
    expect(run('systemd-analyze', ['verify', unit])).toEqual({ status: 0, output: '' });
  });

  it('a unit with a misspelt key is caught (the check can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-unit-'));
    const broken = path.join(dir, 'pixpool-broken.service');
    const text = fs.readFileSync(UNITS[0], 'utf8');
    fs.writeFileSync(broken, text.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'));
    try {
      expect(run('systemd-analyze', ['verify', broken]).output).toContain('NoNewPrivilege');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(UNITS)('%s runs as a dedicated user, hardened, restarted on failure', (unit) => {
    const text = fs.readFileSync(unit, 'utf8');
    for (const line of [
      'User=pixpool',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'Restart=on-failure',
    ]) {
      expect(text).toMatch(new RegExp(`^${line}$`, 'm'));
    }
    expect(text).toMatch(/^EnvironmentFile=\/etc\/pixpool\/\w+\.env$/m);
  });
});

describeShellcheck('deploy scripts', () => {
  it('there are scripts to check', () => {
    expect(SCRIPTS.map((file) => path.basename(file)).sort()).toEqual(
      expect.arrayContaining(['build-artifacts.sh', 'install-app.sh', 'install-node.sh']),
    );
  });

  it.each(SCRIPTS)('%s passes shellcheck', (script) => {
    expect(run('shellcheck', ['-x', '-P', path.dirname(script), script])).toEqual({
      status: 0,
      output: '',
    });
  });
});

/*
 * What the AWS review (issue 20) asked of the scripts and units: read as text, since they run only
 * on an instance. Node 24; the node refreshes before its unit answers /health; the refresh is in
 * place before anything at first boot can time out; the app tells CloudFormation when it is ready.
 */
describe('boot order and versions', () => {
  const read = (...parts: string[]): string => fs.readFileSync(path.join(ROOT, ...parts), 'utf8');

  it('instances run Node 24 (Amazon Linux 2023 nodejs24)', () => {
    const common = read('deploy', 'scripts', 'common.sh');
    expect(common).toContain('dnf install -y -q nodejs24');
    expect(common).toMatch(/-ge 24\b/);
  });

  it('the node unit starts only after the refresh of its artifacts at every boot', () => {
    const node = read('deploy', 'systemd', 'pixpool-node.service');
    expect(node).toMatch(/^After=.*\bpixpool-node-refresh\.service\b/m);
    const refresh = read('deploy', 'systemd', 'pixpool-node-refresh.service');
    expect(refresh).toMatch(/^Before=pixpool-node\.service$/m);
    expect(refresh).toMatch(/^Type=oneshot$/m);
  });

  it('install-node.sh installs the refresh before anything that can time out', () => {
    const script = read('deploy', 'scripts', 'install-node.sh');
    const refresh = script.indexOf('pixpool-node-refresh.service');
    expect(refresh).toBeGreaterThan(0);
    expect(refresh).toBeLessThan(script.indexOf('\nensure_node'));
    expect(refresh).toBeLessThan(script.indexOf('read_secret'));
  });

  it('install-app.sh configures the stack scope and waits for readiness before the signal', () => {
    const script = read('deploy', 'scripts', 'install-app.sh');
    expect(script).toContain('vpcId: $PIXPOOL_VPC_ID');
    expect(script).toContain('launchTemplateVersion: ');
    expect(script).toContain('elbv2 register-targets');
    expect(script).toMatch(/health\/ready/);
    expect(script).toContain('aws-cfn-bootstrap');
  });

  it('instances install from the artifacts alone: no npm, no package registry, no compiler', () => {
    for (const name of ['install-app.sh', 'install-node.sh', 'refresh-node.sh', 'common.sh']) {
      const code = read('deploy', 'scripts', name)
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'))
        .join('\n');
      expect(code).not.toMatch(/\bnpm\b|\bnpx\b|node-gyp|gcc|\bmake\b|nodejs24-npm/);
    }
    const app = read('deploy', 'scripts', 'install-app.sh');
    expect(app).toContain('tar -xzf "$here/pixpool-app-$arch.tgz"');
    expect(app).toMatch(/x86_64\) arch=x64/);
    expect(app).toMatch(/aarch64\) arch=arm64/);
  });
});

describeSystemd('the refresh unit', () => {
  it('passes systemd-analyze verify with no complaint', () => {
    const unit = path.join(ROOT, 'deploy', 'systemd', 'pixpool-node-refresh.service');
    expect(run('systemd-analyze', ['verify', unit])).toEqual({ status: 0, output: '' });
  });
});
