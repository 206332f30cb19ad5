import { ConsistencyChecker } from './consistency-checker';
import { postJson, uploadVersioned, versionOf } from './http';

/** Uploads `png` under `key`, telling the checker before sending and once acknowledged. */
export async function uploadChecked(
  checker: ConsistencyChecker,
  baseUrl: string,
  key: string,
  png: Buffer,
): Promise<{ status: number; body: Record<string, unknown> }> {
  checker.sending(key, png);
  let res;
  try {
    res = await uploadVersioned(baseUrl, key, png);
  } catch (err) {
    checker.failed(key, png);
    throw err;
  }
  if (res.status === 200) checker.acknowledged(key, png, ConsistencyChecker.now(), res.version);
  else checker.failed(key, png);
  return { status: res.status, body: res.body };
}

/** GET /images/:key, the answer judged by the checker when it is an image (200). */
export async function readChecked(
  checker: ConsistencyChecker,
  baseUrl: string,
  key: string,
): Promise<{ status: number; body: Buffer; nearHit: boolean }> {
  const startedAt = ConsistencyChecker.now();
  const res = await fetch(`${baseUrl}/images/${encodeURIComponent(key)}`);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status === 200) checker.read(key, startedAt, body, versionOf(res.headers.get('etag')));
  return { status: res.status, body, nearHit: res.headers.get('x-near-cache') === 'HIT' };
}

export async function getNumNodes(baseUrl: string): Promise<number> {
  return (await postJson(`${baseUrl}/api/getNumNodes`)).body.numNodes as number;
}
