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
      env: { PIXPOOL_POOL_INITIAL: '3', PIXPOOL_POOL_HEALTH_INTERVAL_MS: '300' },
    });
    for (const key of [...KEYS, ...HOT]) {
      expect((await uploadChecked(checker, app.url, key, makePng(2500))).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('loses no read, repairs the assignment, and loses nothing', async () => {
    for (const key of KEYS) await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
    expect(await numNodes(app)).toBe(3);
    const pids = cacheNodePids(app);
    expect(pids).toHaveLength(3);

    const load = startLoad(() => app.url, checker, { readKeys: KEYS, writeKeys: HOT });
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(pids[1], 'SIGKILL');
    for (let i = 0; i < 50 && (await numNodes(app)) !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await load.stop();

    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(100);
    expect(await numNodes(app)).toBe(2);
    expect(cacheNodePids(app)).toHaveLength(2);
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
