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
