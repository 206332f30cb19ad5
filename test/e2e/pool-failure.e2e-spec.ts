import { getNumNodes, readChecked, uploadChecked } from '../support/checked-io';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import { AppProcess, startApp } from '../support/app-process';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { startLoad } from '../support/load';

const KEYS = Array.from({ length: 60 }, (_, i) => `key-${i}`);
const HOT = Array.from({ length: 10 }, (_, i) => `hot-${i}`);

function cacheNodePids(app: AppProcess): number[] {
  const out = execSync(`pgrep -P ${app.pid()} -f cache-node/main.js || true`).toString();
  return out.split('\n').filter(Boolean).map(Number);
}

/** Running, not merely an unreaped zombie (this container's init may not reap orphans). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const numNodes = (app: AppProcess) => getNumNodes(app.url);

describe('a cache node killed with SIGKILL under load', () => {
  let app: AppProcess;
  const checker = new ConsistencyChecker();

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_POOL_INITIAL: '3',
        PIXPOOL_POOL_HEALTH_INTERVAL_MS: '300',
        PIXPOOL_MEMBERSHIP_REMOVE_AFTER_MS: '3000',
      },
    });
    for (const key of [...KEYS, ...HOT]) {
      expect((await uploadChecked(checker, app.url, key, makePng(2500))).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('loses no read, replaces the node to keep the size, and loses nothing', async () => {
    for (const key of KEYS) await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
    expect(await numNodes(app)).toBe(3);
    const pids = cacheNodePids(app);
    expect(pids).toHaveLength(3);

    const load = startLoad(() => app.url, checker, { readKeys: KEYS, writeKeys: HOT });
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(pids[1], 'SIGKILL');
    const killedAt = Date.now();
    // Back to size: 3 members, all serving, the killed one not among the processes.
    const replaced = async () => {
      const body = (await (await fetch(`${app.url}/api/manager/pool`)).json()) as {
        nodes: { health: { state: string } | null }[];
      };
      const now = cacheNodePids(app);
      return (
        body.nodes.length === 3 &&
        body.nodes.every((n) => n.health?.state === 'serving') &&
        now.length === 3 &&
        !now.includes(pids[1])
      );
    };
    while (!(await replaced())) {
      if (Date.now() - killedAt > 30_000)
        throw new Error(`not back to 3 nodes within 30 s:\n${app.output().slice(-6000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const backAfterMs = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await load.stop();

    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(100);
    expect(await numNodes(app)).toBe(3);
    expect(backAfterMs).toBeLessThan(30_000);
    expect(app.output()).toMatch(/replaced .* by local-\d+: no answer for 3000 ms/);
    const decisions = (await (await fetch(`${app.url}/api/manager/autoscaler`)).json()) as {
      decisions: { action: string; reason: string }[];
    };
    expect(decisions.decisions[0]).toMatchObject({
      action: 'replace',
      reason: expect.stringMatching(/^replaced failed node local-\d+ by local-\d+/),
    });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^pixpool_membership_changes_total\{change="replaced"\} 1$/m);
    for (const key of [...KEYS, ...HOT]) {
      expect((await readChecked(checker, app.url, key)).status).toBe(200);
    }
    expect(checker.staleReads).toEqual([]);
  }, 60_000);

  it('leaves no cache node behind when the app is killed', async () => {
    const pids = cacheNodePids(app);
    process.kill(app.pid(), 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const alive = pids.filter(isRunning);
    expect(alive).toEqual([]);
  });
});
