import { partition } from '../../src/protocol/hash-ring';
import { CacheNodeClient } from '../../src/pool/client/cache-node.client';
import { AppProcess, startApp } from '../support/app-process';
import { postJson, upload } from '../support/http';
import { makePng } from '../support/images';

const CLIENTS = 4;
const NODE_SECRET = 'delete-all-race-secret-padded-to-32-characters';
const CLEARS = 10;
/** Every way to delete everything: the course's, the course tester's, the manager's. */
const CLEAR_ROUTES: Array<[string, string]> = [
  ['POST', '/api/delete_all'],
  ['DELETE', '/api/clear/data'],
  ['DELETE', '/api/manager/data'],
];

interface SentUpload {
  key: string;
  body: Buffer;
  sentAt: number;
  status?: number;
}

/**
 * Deleting everything races uploads of fresh keys (embedded default). The clear may take an
 * upload that committed before it with it, but never the object of a row it leaves: every key
 * list_keys shows afterwards reads back with its bytes, and so does every upload sent after the
 * last clear answered.
 */
describe('delete_all racing uploads (real app, embedded default)', () => {
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp({ env: { PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('never deletes the object of a row it leaves, nor of an upload sent after it', async () => {
    const sent: SentUpload[] = [];
    let clearsDone = false;
    let lastClearAnsweredAt = 0;

    const client = async (id: number): Promise<void> => {
      // Go on for a while after the last clear, so uploads sent after it are checked too.
      let afterLastClear = 0;
      for (let n = 0; afterLastClear < 5; n++) {
        if (clearsDone) afterLastClear++;
        const item: SentUpload = { key: `race-${id}-${n}`, body: makePng(600), sentAt: now() };
        sent.push(item);
        item.status = (await upload(app.url, item.key, item.body)).status;
      }
    };
    const clears = async (): Promise<void> => {
      for (let i = 0; i < CLEARS; i++) {
        await pause(20 + Math.random() * 60);
        const [method, route] = CLEAR_ROUTES[i % CLEAR_ROUTES.length];
        const res = await fetch(`${app.url}${route}`, { method });
        expect(res.status).toBe(200);
        lastClearAnsweredAt = now();
      }
      clearsDone = true;
    };
    await Promise.all([clears(), ...Array.from({ length: CLIENTS }, (_, id) => client(id))]);

    const byKey = new Map(sent.map((s) => [s.key, s]));
    const listed = (await postJson(`${app.url}/api/list_keys`)).body.keys as string[];
    const afterClear = sent.filter((s) => s.sentAt > lastClearAnsweredAt);
    expect(afterClear.length).toBeGreaterThanOrEqual(CLIENTS * 5);
    expect(sent.every((s) => s.status === 200)).toBe(true);

    const lost: string[] = [];
    for (const key of new Set([...listed, ...afterClear.map((s) => s.key)])) {
      const res = await fetch(`${app.url}/images/${encodeURIComponent(key)}`);
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || !body.equals(byKey.get(key)!.body)) {
        lost.push(`${key}: ${res.status}`);
      }
    }
    expect({ listed: listed.length, lost }).toEqual({ listed: listed.length, lost: [] });
  }, 120_000);

  it('after delete_all the nodes refuse a copy from before it (a transfer frame landing late)', async () => {
    const png = makePng(500);
    expect((await upload(app.url, 'late', png)).status).toBe(200);
    const etag = (await fetch(`${app.url}/images/late`)).headers.get('etag');
    const version = Number(/^"v(\d+)"$/.exec(etag ?? '')?.[1]);
    expect(Number.isSafeInteger(version)).toBe(true);
    expect((await postJson(`${app.url}/api/delete_all`)).status).toBe(200);

    const pool = (await (await fetch(`${app.url}/api/manager/pool`)).json()) as {
      nodes: { url: string }[];
    };
    for (const { url } of pool.nodes) {
      const client = new CacheNodeClient({ url, secret: NODE_SECRET, timeoutMs: 5_000 });
      try {
        const put = await client.put('late', partition('late'), png, { version });
        expect(put).toMatchObject({ kind: 'stale' });
      } finally {
        client.close();
      }
    }
    expect((await fetch(`${app.url}/images/late`)).status).toBe(404);
  });
});

function now(): number {
  return performance.now();
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
