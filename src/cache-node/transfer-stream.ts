/* The sending half of a region transfer (transfer.ts): one chunked POST to the target's /v1/import. */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { NODE_HEADERS, NODE_ROUTES, type NodeImportResult } from '../protocol/cache-node.protocol';
import type { NodeContext } from './context';
import { encodeEndFrame, encodeFrameHead, FrameKind, STREAM_MAGIC } from './framing';

/** A target that stops reading (or answering) for this long fails the transfer. */
const IDLE_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 64 * 1024;

export interface Sent {
  entries: number;
  tombstones: number;
  bytes: number;
}

/**
 * The target refuses a stream for another epoch, but once it has, it closes the connection under
 * the stream and the refusal can be lost in the write error: ask first, to fail with the reason.
 */
export function checkTargetEpoch(target: URL, epoch: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = request({
      host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(target.port || 80),
      path: NODE_ROUTES.health,
      agent: false,
      timeout: 5_000,
    });
    probe.on('timeout', () => probe.destroy(new Error('no answer to /health within 5 s')));
    probe.on('error', reject);
    probe.on('response', (res) => {
      res.resume();
      const targetEpoch = Number(res.headers[NODE_HEADERS.epoch]);
      if (res.statusCode !== 200) reject(new Error(`target /health answered ${res.statusCode}`));
      else if (targetEpoch !== epoch) {
        reject(
          new Error(`stale_epoch: target is at epoch ${targetEpoch}, the transfer is for ${epoch}`),
        );
      } else resolve();
    });
    probe.end();
  });
}

/** Streams the regions' pending marks, entries, then tombstones; resolves with the target's answer. */
export async function streamRegions(
  ctx: NodeContext,
  regions: ReadonlySet<number>,
  target: URL,
  epoch: number,
  sent: Sent,
): Promise<NodeImportResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-pixpool-frames' };
  if (ctx.options.secret) headers[NODE_HEADERS.secret] = ctx.options.secret;
  const out = request({
    host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(target.port || 80),
    method: 'POST',
    path: `${NODE_ROUTES.import}?epoch=${epoch}`,
    headers,
    agent: false,
  });
  out.setTimeout(IDLE_TIMEOUT_MS, () =>
    out.destroy(new Error(`no progress for ${IDLE_TIMEOUT_MS} ms`)),
  );
  let settled = false;
  const answer = new Promise<NodeImportResult>((resolve, reject) => {
    out.on('error', reject);
    out.on('response', (res) => readAnswer(res).then(resolve, reject));
  }).finally(() => (settled = true));
  // Handled below; this keeps an early rejection from counting as unhandled meanwhile.
  answer.catch(() => undefined);
  try {
    // Stops early once the target answered (an early refusal) or the connection failed.
    await writeFrames(out, ctx, regions, sent, () => settled);
  } catch (err) {
    // A target that refused early may close before we see its answer settle: prefer its reason.
    const refusal = await rejectionWithin(answer, 1_000);
    out.destroy();
    throw refusal ?? err;
  }
  try {
    return await answer;
  } finally {
    if (!out.writableEnded) out.destroy();
  }
}

async function writeFrames(
  out: ClientRequest,
  ctx: NodeContext,
  regions: ReadonlySet<number>,
  sent: Sent,
  stopped: () => boolean,
): Promise<void> {
  const { store } = ctx;
  await write(out, STREAM_MAGIC);
  // Pending marks first: a region handed over stays pending for uploads about to commit.
  let marks = 0;
  for (const mark of store.pending.ofRegions(regions)) {
    if (stopped()) return;
    const { region, key, id, remainingMs } = mark;
    await write(out, encodeFrameHead(FrameKind.Pending, region, key, remainingMs, id, 0));
    marks++;
  }
  for (const entry of store.table.ofRegions(regions)) {
    if (stopped()) return;
    // Replaced or invalidated since the snapshot: its successor (if any) is not ours to send.
    if (store.table.peek(entry.key) !== entry) continue;
    const head = encodeFrameHead(
      FrameKind.Entry,
      entry.region,
      entry.key,
      entry.version,
      entry.contentType,
      entry.value.length,
    );
    await write(out, head);
    // Held until written out, so the block is not recycled under the socket.
    store.table.beginRead(entry);
    await write(out, entry.value, () => store.table.endRead(entry));
    sent.entries++;
    sent.bytes += entry.value.length;
  }
  for (const [key, tombstone] of store.tombstonesOf(regions)) {
    if (stopped()) return;
    await write(
      out,
      encodeFrameHead(FrameKind.Tombstone, tombstone.region, key, tombstone.version, '', 0),
    );
    sent.tombstones++;
  }
  out.end(encodeEndFrame(marks + sent.entries + sent.tombstones));
}

/** Resolves at once unless the socket buffer is full; then waits for it to drain. */
function write(out: ClientRequest, chunk: Buffer, written?: () => void): Promise<void> | void {
  if (out.write(chunk, written)) return;
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('connection closed'));
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}

/** The promise's rejection if it rejects within `ms`, else undefined. */
function rejectionWithin(promise: Promise<unknown>, ms: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
      (err: Error) => {
        clearTimeout(timer);
        resolve(err);
      },
    );
  });
}

function readAnswer(res: IncomingMessage): Promise<NodeImportResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (res.statusCode !== 200)
        return reject(new Error(`target answered ${res.statusCode}: ${text}`));
      try {
        resolve(JSON.parse(text) as NodeImportResult);
      } catch {
        reject(new Error('target answered with invalid JSON'));
      }
    });
  });
}
