import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppProcess } from '../support/app-process';
import { readChecked, uploadChecked } from '../support/checked-io';
import { ConsistencyChecker } from '../support/consistency-checker';
import { postJson } from '../support/http';
import { makePng } from '../support/images';
import { describeWithMysql } from '../support/mysql';
import { startTwoFrontEnds, type TwoFrontEnds } from '../support/two-front-ends';

const KEYS = ['phoenix-0', 'phoenix-1', 'phoenix-2', 'phoenix-3'];
const NODE_SECRET = 'skewed-clocks-secret-padded-to-32-characters';
const BEHIND_MS = 60_000;

/** Loaded into B before the app: its clock runs a minute behind A's. */
function clockBehindPreload(dir: string): string {
  const file = path.join(dir, 'clock-behind.js');
  fs.writeFileSync(
    file,
    `const realNow = Date.now;\nDate.now = () => realNow.call(Date) - ${BEHIND_MS};\n`,
  );
  return file;
}

const versionOf = async (app: AppProcess, key: string): Promise<number> => {
  const etag = (await fetch(`${app.url}/images/${key}`)).headers.get('etag') ?? '';
  return Number(/^"v(\d+)"$/.exec(etag)?.[1]);
};

/**
 * Two front-ends on one database, B's clock a minute behind A's: keys uploaded through A, deleted,
 * and uploaded again through B. The new uploads win everywhere: both read them back, with a
 * version (ETag) above the one of the images deleted.
 */
describeWithMysql('two app instances whose clocks disagree', () => {
  let world: TwoFrontEnds;
  let a: AppProcess;
  let b: AppProcess;
  const checker = new ConsistencyChecker();

  beforeAll(async () => {
    const preload = clockBehindPreload(fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-skew-')));
    world = await startTwoFrontEnds({
      nodes: 2,
      secret: NODE_SECRET,
      bEnv: { NODE_OPTIONS: `--require ${preload}` },
    });
    ({ a, b } = world);
  }, 60_000);
  afterAll(() => world?.stop());

  it('keys re-created through the instance behind, after a delete_all, win on both', async () => {
    const before = new Map<string, number>();
    for (const key of KEYS) {
      expect((await uploadChecked(checker, a.url, key, makePng(800))).status).toBe(200);
      for (const app of [a, b]) expect((await readChecked(checker, app.url, key)).status).toBe(200);
      before.set(key, await versionOf(a, key));
    }
    expect((await postJson(`${a.url}/api/delete_all`)).status).toBe(200);

    for (const key of KEYS) {
      const renewed = makePng(900);
      expect((await uploadChecked(checker, b.url, key, renewed)).status).toBe(200);
      for (const app of [a, b, a]) {
        const read = await readChecked(checker, app.url, key);
        expect(read.status).toBe(200);
        expect(read.body.equals(renewed)).toBe(true);
      }
      expect(await versionOf(b, key)).toBeGreaterThan(before.get(key)!);
    }
    expect(checker.staleReads).toEqual([]);
  }, 60_000);
});
