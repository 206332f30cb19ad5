import { spawnSync } from 'node:child_process';
import {
  createTestNetwork,
  netnsUnavailableReason,
  removeStaleTestNetworks,
} from '../../support/netns';

const reason = netnsUnavailableReason();
const describeWithNetns = reason === null ? describe : describe.skip;
if (reason !== null) console.warn(`\n!!! SKIPPED netns support tests: ${reason}\n`);

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

/** A pid that surely belongs to no process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describeWithNetns('test network namespaces', () => {
  it('sweeps what a crashed run left (names with a dead pid) and leaves live runs alone', () => {
    const dead = deadPid();
    const live = process.ppid; // alive: the Jest parent
    ip('netns', 'add', `pxt${dead}-app`);
    ip('link', 'add', `pxb${dead}`, 'type', 'bridge');
    ip('netns', 'add', `pxt${live}-other`);
    try {
      const removed = removeStaleTestNetworks();
      expect(removed).toEqual(expect.arrayContaining([`pxt${dead}-app`, `pxb${dead}`]));
      const names = ip('netns', 'list').stdout;
      expect(names).not.toContain(`pxt${dead}-`);
      expect(names).toContain(`pxt${live}-other`);
      expect(ip('link', 'show', `pxb${dead}`).status).not.toBe(0);
    } finally {
      ip('netns', 'del', `pxt${live}-other`);
      ip('netns', 'del', `pxt${dead}-app`);
      ip('link', 'del', `pxb${dead}`);
    }
  });

  it('connects hosts on their own addresses, cuts and restores a link, and removes everything', () => {
    const net = createTestNetwork(['a', 'b']);
    try {
      const [a, b] = [net.host('a'), net.host('b')];
      expect(a.address).toMatch(/^198\.1[89]\.\d+\.11$/);
      expect(b.address).toBe(a.address.replace(/11$/, '12'));
      const ping = (timeoutMs: number) =>
        spawnSync(
          'ip',
          [
            ...['netns', 'exec', a.ns, process.execPath, '-e'],
            `const s = require('node:net').connect(9, '${b.address}');
             s.on('connect', () => process.exit(0));
             s.on('error', (e) => process.exit(e.code === 'ECONNREFUSED' ? 0 : 1));
             setTimeout(() => process.exit(2), ${timeoutMs});`,
          ],
          { encoding: 'utf8' },
        ).status;
      // a refused connection proves the packet reached b; a cut link times out instead
      expect(ping(2_000)).toBe(0);
      net.cut('b');
      expect(ping(500)).toBe(2);
      net.restore('b');
      expect(ping(2_000)).toBe(0);
    } finally {
      net.destroy();
    }
    expect(ip('netns', 'list').stdout).not.toContain(`pxt${process.pid}-`);
    expect(ip('-o', 'link', 'show').stdout).not.toMatch(new RegExp(`px[bv]${process.pid}`));
  });
});
