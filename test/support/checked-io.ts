import { ConsistencyChecker } from './consistency-checker';
import { postJson, upload } from './http';

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
    res = await upload(baseUrl, key, png);
  } catch (err) {
    checker.failed(key, png);
    throw err;
  }
  if (res.status === 200) checker.acknowledged(key, png);
  else checker.failed(key, png);
  return res;
}

/** GET /images/:key, the answer judged by the checker when it is an image (200). */
export async function readChecked(
  checker: ConsistencyChecker,
  baseUrl: string,
  key: string,
): Promise<{ status: number; body: Buffer }> {
  const startedAt = ConsistencyChecker.now();
  const res = await fetch(`${baseUrl}/images/${encodeURIComponent(key)}`);
  const body = Buffer.from(await res.arrayBuffer());
  const version = /^"v(\d+)"$/.exec(res.headers.get('etag') ?? '')?.[1];
  if (res.status === 200) checker.read(key, startedAt, body, version ? Number(version) : undefined);
  return { status: res.status, body };
}

export async function getNumNodes(baseUrl: string): Promise<number> {
  return (await postJson(`${baseUrl}/api/getNumNodes`)).body.numNodes as number;
}
